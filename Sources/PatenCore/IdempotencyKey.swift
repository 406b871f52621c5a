import Foundation

/// A client's key that makes a retried request safe (the `Idempotency-Key` header): the first request under it
/// runs, and a retry with the same body gets the first response again instead of a second question or message.
public struct IdempotencyKey: Sendable, Hashable, CustomStringConvertible {
    /// Longest key, in characters.
    public static let maxLength = 255
    /// How long a key and its response are kept (and replayed).
    public static let lifetime: TimeInterval = 24 * 3600
    /// How long a reservation without a response holds its key; after that the request that made it is taken as
    /// lost (its process died), and a retry may run.
    public static let reservationTimeout: TimeInterval = 120
    /// Most expired records one request deletes, so that no request pays for a large backlog.
    public static let purgeBatch = 100

    /// The key as the client sent it.
    public let value: String

    /// Validates a header value: 1 to 255 printable ASCII characters, else 400 `invalid_idempotency_key`.
    public init(_ text: String) throws {
        guard !text.isEmpty, text.utf8.count <= Self.maxLength,
            text.utf8.allSatisfy({ (0x20...0x7E).contains($0) })
        else {
            throw PatenError.malformed(
                "invalid_idempotency_key",
                "The Idempotency-Key header must be 1 to \(Self.maxLength) printable ASCII characters, such as a UUID."
            )
        }
        value = text
    }

    public var description: String { value }

    /// The 400 for a request that sends the header more than once.
    public static let repeated = PatenError.malformed(
        "invalid_idempotency_key", "Send the Idempotency-Key header once per request."
    )
}

/// Where a key applies: one account's requests to one route (method and path). Another account, or another
/// route, may use the same key for something unrelated.
public struct IdempotencyScope: Sendable, Hashable {
    public var accountId: String
    /// Method and path, such as `POST /v1/questions`.
    public var route: String
    public var key: IdempotencyKey

    /// Creates a scope.
    public init(accountId: String, route: String, key: IdempotencyKey) {
        self.accountId = accountId
        self.route = route
        self.key = key
    }
}

/// The response a request under a key answered, replayed to its retries.
public struct IdempotentResponse: Sendable, Equatable {
    /// The HTTP status code.
    public var status: Int
    /// The JSON body, as sent.
    public var body: String

    /// Creates a response record.
    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }
}

/// What is kept under a key: the request's body fingerprint, the reservation of the request that runs, and once
/// it succeeded, its response.
public struct IdempotencyRecord: Sendable, Equatable {
    public var scope: IdempotencyScope
    /// The SHA-256 of the raw request body, in hex.
    public var fingerprint: String
    /// Names the request holding the reservation; only it may complete or release the record.
    public var token: String
    public var createdAt: Date
    /// The response, once the request succeeded; nil while it runs.
    public var response: IdempotentResponse?

    /// Creates a record.
    public init(
        scope: IdempotencyScope, fingerprint: String, token: String, createdAt: Date, response: IdempotentResponse? = nil
    ) {
        self.scope = scope
        self.fingerprint = fingerprint
        self.token = token
        self.createdAt = createdAt
        self.response = response
    }

    /// Whether the record no longer holds its key at `now`: older than the key's lifetime, or a reservation whose
    /// request never finished.
    public func hasLapsed(at now: Date) -> Bool {
        let age = now.timeIntervalSince(createdAt)
        return age >= IdempotencyKey.lifetime || (response == nil && age >= IdempotencyKey.reservationTimeout)
    }

    /// What a new request (`self`, a fresh reservation) may do given the record stored under its scope.
    public func decide(against existing: IdempotencyRecord?) -> IdempotencyDecision {
        guard let existing, !existing.hasLapsed(at: createdAt) else { return .reserved }
        guard existing.fingerprint == fingerprint else { return .reused }
        guard let response = existing.response else { return .inUse }
        return .replay(response)
    }
}

/// The answer to a request that sends a key.
public enum IdempotencyDecision: Sendable, Equatable {
    /// The key is now reserved for this request: run it, then complete or release the record.
    case reserved
    /// An earlier request with the same body succeeded: answer its response again.
    case replay(IdempotentResponse)
    /// An earlier request with the same key is still running (409 `idempotency_key_in_use`).
    case inUse
    /// The key was used with another body (422 `idempotency_key_reused`).
    case reused

    /// The refusal for `inUse` and `reused`, nil otherwise.
    public var error: PatenError? {
        switch self {
        case .reserved, .replay: nil
        case .inUse:
            PatenError.conflict(
                "idempotency_key_in_use",
                "A request with this Idempotency-Key is still being processed; retry once it has finished."
            )
        case .reused:
            PatenError.unprocessable(
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request body; use a new key for a new request."
            )
        }
    }
}

/// Keeps idempotency keys with the responses of the requests that used them.
public protocol IdempotencyRepository: Sendable {
    /// In one transaction: deletes up to `IdempotencyKey.purgeBatch` records older than the key lifetime, decides
    /// with `record.decide(against:)` about the record stored under its scope, and on `.reserved` stores `record`
    /// in its place. Of concurrent requests under one scope, one is reserved.
    func reserveIdempotencyKey(_ record: IdempotencyRecord) async throws -> IdempotencyDecision
    /// Stores the response of the request holding the reservation `token`; does nothing if another request took
    /// the key over meanwhile.
    func completeIdempotencyKey(_ scope: IdempotencyScope, token: String, response: IdempotentResponse) async throws
    /// Deletes the reservation `token` holds (its request failed), so that a retry under the key runs.
    func releaseIdempotencyKey(_ scope: IdempotencyScope, token: String) async throws
    /// The record stored under the scope, lapsed or not.
    func idempotencyRecord(_ scope: IdempotencyScope) async throws -> IdempotencyRecord?
}
