import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PatenCore

/// Runs a creating request at most once per `Idempotency-Key` (per account and route, for 24 hours): a retry with
/// the same body gets the first response again with `Idempotent-Replayed: true`, another body under the key is 422
/// `idempotency_key_reused`, and a retry while the first still runs is 409 `idempotency_key_in_use`. The write is
/// marked on the key's reservation in its own transaction, so a write that committed is never made again under the
/// key: when its response was not stored (storing failed, or the process died), a retry rebuilds the response from
/// what was written. A request that fails before writing releases its key, so the client can retry it.
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

    /// Answers the request with `handler`'s response, or with the response stored under its key, or with one
    /// `rebuild` makes from the write of an earlier request whose response was not stored. The handler gets the
    /// reservation to pass to the write (nil without the header, when it simply runs). `route` names the operation
    /// and its target, such as `POST /v1/questions`.
    func respond<Resource: ResponseEncodable>(
        to request: Request, context: PatenRequestContext, account: Helper, route: String,
        rebuild: (IdempotentWriteResult) throws -> EditedResponse<Resource>,
        _ handler: (Request, IdempotencyReservation?) async throws -> EditedResponse<Resource>
    ) async throws -> Response {
        let values = request.headers[values: .idempotencyKey]
        guard let value = values.first else {
            return try await handler(request, nil).response(from: request, context: context)
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
        if let refusal = decision.error { throw refusal }
        switch decision {
        case .replay(let stored):
            return Self.response(stored, replayed: true)
        case .unanswered(let write, let reservation):
            guard let written = try await store.idempotentWriteResult(write) else {
                throw PatenError.notFound("question", id: write.questionId)
            }
            let stored = try Self.stored(rebuild(written), context: context)
            await complete(reservation, with: stored, context: context)
            return Self.response(stored, replayed: true)
        case .reserved, .inUse, .reused:
            break
        }
        let result: EditedResponse<Resource>
        do {
            result = try await handler(request, record.reservation)
        } catch {
            // Its own task, so that a cancelled request still frees its key. The store keeps a reservation its
            // write was marked on; one that fails to be released lapses after `IdempotencyKey.reservationTimeout`.
            let store = store
            await Task { try? await store.releaseIdempotencyKey(scope, token: record.token) }.value
            throw error
        }
        let stored = try Self.stored(result, context: context)
        await complete(record.reservation, with: stored, context: context)
        return Self.response(stored, replayed: false)
    }

    /// Stores the response under the reservation. The write is made and marked on the key whether or not this
    /// succeeds, so a failure is logged, not answered: the client gets its response, and a retry rebuilds it.
    private func complete(
        _ reservation: IdempotencyReservation, with response: IdempotentResponse, context: PatenRequestContext
    ) async {
        do {
            try await store.completeIdempotencyKey(reservation.scope, token: reservation.token, response: response)
        } catch {
            context.logger.warning(
                "idempotent response not stored; a retry will rebuild it",
                metadata: ["route": "\(reservation.scope.route)", "error": "\(error)"]
            )
        }
    }

    /// The response record of a handler's result.
    static func stored<Resource: ResponseEncodable>(
        _ result: EditedResponse<Resource>, context: PatenRequestContext
    ) throws -> IdempotentResponse {
        IdempotentResponse(
            status: Int((result.status ?? .ok).code),
            body: String(decoding: try context.responseEncoder.encode(result.responseGenerator), as: UTF8.self)
        )
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
