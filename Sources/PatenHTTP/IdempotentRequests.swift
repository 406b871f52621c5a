import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import PatenCore

/// Runs a creating request at most once per `Idempotency-Key` (per account and route, for 24 hours): a retry with
/// the same body gets the first response again with `Idempotent-Replayed: true`, another body under the key is 422
/// `idempotency_key_reused`, and a retry while the first still runs is 409 `idempotency_key_in_use`. Only
/// successful responses are kept: a request that fails releases its key, so the client can retry it.
public struct IdempotentRequests: Sendable {
    private let store: any IdempotencyRepository
    private let clock: any Clock
    private let ids: any IdentifierGenerator

    /// Creates the runner over the store that keeps the keys.
    public init(
        store: any IdempotencyRepository, clock: any Clock, ids: any IdentifierGenerator = RandomIdentifierGenerator()
    ) {
        self.store = store
        self.clock = clock
        self.ids = ids
    }

    /// Answers the request with `handler`'s response, or with the response stored under its key. Without the
    /// header the handler simply runs. `route` names the operation and its target, such as `POST /v1/questions`.
    func respond<Resource: ResponseEncodable>(
        to request: Request, context: PatenRequestContext, account: Helper, route: String,
        _ handler: (Request) async throws -> EditedResponse<Resource>
    ) async throws -> Response {
        let values = request.headers[values: .idempotencyKey]
        guard let value = values.first else {
            return try await handler(request).response(from: request, context: context)
        }
        guard values.count == 1 else { throw IdempotencyKey.repeated }
        let scope = IdempotencyScope(accountId: account.id, route: route, key: try IdempotencyKey(value))
        var request = request
        // The handler decodes the same collected buffer; the limit is the one it would apply.
        let body = try await request.collectBody(upTo: APICoding.bodyLimit)
        let record = IdempotencyRecord(
            scope: scope, fingerprint: Self.fingerprint(body), token: ids.make("idem"), createdAt: clock.now()
        )
        let decision = try await store.reserveIdempotencyKey(record)
        if case .replay(let stored) = decision { return Self.response(stored, replayed: true) }
        if let refusal = decision.error { throw refusal }
        let result: EditedResponse<Resource>
        do {
            result = try await handler(request)
        } catch {
            // Its own task, so that a cancelled request still frees its key; a release that fails anyway leaves
            // a reservation that lapses after `IdempotencyKey.reservationTimeout`.
            let store = store
            await Task { try? await store.releaseIdempotencyKey(scope, token: record.token) }.value
            throw error
        }
        // From here on the change is made: the key stays reserved even if storing the response fails, so that a
        // retry cannot make it twice before the reservation lapses.
        let stored = IdempotentResponse(
            status: Int((result.status ?? .ok).code),
            body: String(decoding: try context.responseEncoder.encode(result.responseGenerator), as: UTF8.self)
        )
        try await store.completeIdempotencyKey(scope, token: record.token, response: stored)
        return Self.response(stored, replayed: false)
    }

    /// The SHA-256 of the raw body, in hex.
    static func fingerprint(_ body: ByteBuffer) -> String {
        SHA256.hash(data: Data(body.readableBytesView)).map { String(format: "%02x", $0) }.joined()
    }

    /// A stored JSON response as sent.
    static func response(_ stored: IdempotentResponse, replayed: Bool) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if replayed { headers[.idempotentReplayed] = "true" }
        return Response(
            status: HTTPResponse.Status(code: stored.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: stored.body))
        )
    }
}

extension HTTPField.Name {
    /// The header a client sends to make a request safe to retry.
    static var idempotencyKey: Self { Self("Idempotency-Key") ?? .accept }
    /// The header that marks a response as the stored answer to an earlier request.
    static var idempotentReplayed: Self { Self("Idempotent-Replayed") ?? .accept }
}
