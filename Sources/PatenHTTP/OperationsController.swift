import Foundation
import Hummingbird
import Logging
import PatenCore

/// Liveness, readiness and the API description; none needs a token.
public struct OperationsController: Sendable {
    let readiness: @Sendable () async throws -> Bool
    let document: String

    /// Creates the controller; `readiness` answers whether the database is reachable and migrated, and the served
    /// API description lists `policy`'s topics and languages.
    public init(policy: Policy, readiness: @escaping @Sendable () async throws -> Bool) {
        self.readiness = readiness
        self.document = OpenAPIDocument.yaml(for: policy)
    }

    /// The body of `/readyz`.
    public struct Status: ResponseCodable, Sendable {
        public var status: String
    }

    /// The body of `/healthz`: alive, and which version of Paten answers.
    public struct Health: ResponseCodable, Sendable {
        public var status: String
        public var version: String
    }

    /// Adds the routes to the router's root.
    public func addRoutes(to router: Router<PatenRequestContext>) {
        router.get("healthz") { _, _ in Health(status: "ok", version: PatenVersion.current) }
        router.get("readyz") { _, context -> EditedResponse<Status> in
            do {
                if try await readiness() { return EditedResponse(status: .ok, response: Status(status: "ready")) }
            } catch {
                context.logger.warning("readiness check failed", metadata: ["error": "\(error)"])
            }
            return EditedResponse(status: .serviceUnavailable, response: Status(status: "unavailable"))
        }
        let document = self.document
        router.get("openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml; charset=utf-8"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: document))
            )
        }
    }
}
