import Foundation
import Hummingbird
import PatenCore

/// `POST /hooks/{integrationId}`: inbound webhooks from chat platforms. Authenticated by the integration's
/// signature over the raw body, not by a bearer token. Every verification failure is the same 401.
public struct HookController: Sendable {
    /// Largest inbound body.
    public static let bodyLimit = 256 * 1024

    let receiver: any InboundWebhookHandling

    /// Creates the controller over the receiver.
    public init(receiver: any InboundWebhookHandling) {
        self.receiver = receiver
    }

    /// What the endpoint answers with 200.
    struct Result: ResponseCodable {
        /// `question_created`, `message_added`, `duplicate` or `ignored`.
        var result: String
        var questionId: String?
        var reason: String?
    }

    /// Slack's `url_verification` answer.
    struct Challenge: ResponseCodable {
        var challenge: String
    }

    /// The one answer to every request that does not verify.
    static let rejection = PatenError(
        .unauthenticated, code: "invalid_signature",
        message: "The webhook could not be verified: check the integration id, the secret, the signature headers "
            + "and the sender's clock."
    )

    /// Adds the route at the root (not under `/v1`, and without bearer authentication).
    public func addRoutes(to router: Router<PatenRequestContext>) {
        router.post("hooks/{id}") { request, context -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: Self.bodyLimit)
            var headers: [String: String] = [:]
            for field in request.headers {
                let name = field.name.canonicalName
                headers[name] = headers[name].map { $0 + " " + field.value } ?? field.value
            }
            let outcome = try await receiver.receive(
                integrationId: try context.pathID(), headers: headers, body: Array(buffer.readableBytesView)
            )
            switch outcome {
            case .rejected:
                throw Self.rejection
            case .challenge(let challenge):
                return try Challenge(challenge: challenge).response(from: request, context: context)
            case .questionCreated(let id):
                return try Result(result: "question_created", questionId: id).response(from: request, context: context)
            case .messageAdded(let id):
                return try Result(result: "message_added", questionId: id).response(from: request, context: context)
            case .duplicate:
                return try Result(result: "duplicate").response(from: request, context: context)
            case .ignored(let reason):
                return try Result(result: "ignored", reason: reason).response(from: request, context: context)
            }
        }
    }
}
