import Foundation

/// A client's key that makes a retried request safe (the `Idempotency-Key` header): the first request under it
/// runs, and a retry with the same body gets the first response again instead of a second question or message.
public struct IdempotencyKey: Sendable, Hashable, CustomStringConvertible {
    /// Longest key, in characters.
    public static let maxLength = 255
    /// How long a key and its response are kept (and replayed).
    public static let lifetime: TimeInterval = 24 * 3600
    /// How long a reservation holds its key while nothing was written under it; after that the request that made
    /// it is taken as lost (its process died), and a retry may run. A reservation whose write committed never lapses
    /// before the key's lifetime: its retries are answered from what it wrote.
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

/// The reservation a request holds under a key, handed to the write it makes: the store marks the record with what
/// was written in the same transaction as the write, and refuses the write (409 `idempotency_key_in_use`, nothing
/// changed) when the reservation lapsed and another request holds the key now.
public struct IdempotencyReservation: Sendable, Hashable {
    public var scope: IdempotencyScope
    /// The token of the reserving request's record.
    public var token: String

    /// Creates a reservation.
    public init(scope: IdempotencyScope, token: String) {
        self.scope = scope
        self.token = token
    }

    /// The refusal of a write whose reservation is gone: it lapsed (nothing was written for longer than
    /// `IdempotencyKey.reservationTimeout`) and another request under the key holds it now.
    public static let lost = PatenError.conflict(
        "idempotency_key_in_use",
        "This request ran so long that a retry with its Idempotency-Key took over; nothing was changed. "
            + "Retry once that request has finished to get its answer."
    )
}

/// What a request under a key wrote: the question it created or added to, and the message it added (for a
/// follow-up). Once marked, the key can never run its request again; a retry is answered from these.
public struct IdempotentWrite: Sendable, Hashable {
    public var questionId: String
    /// The follow-up's message; nil for intake.
    public var messageId: String?

    /// Creates a write record.
    public init(questionId: String, messageId: String? = nil) {
        self.questionId = questionId
        self.messageId = messageId
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

/// What is kept under a key: the request's body fingerprint, the reservation of the request that runs, what it
/// wrote (marked in the write's own transaction), and once answered, its response.
public struct IdempotencyRecord: Sendable, Equatable {
    public var scope: IdempotencyScope
    /// The SHA-256 of the raw request body, in hex.
    public var fingerprint: String
    /// Names the request holding the reservation; only it may write under the key or release the record.
    public var token: String
    public var createdAt: Date
    /// What the request wrote, once its write committed; nil before.
    public var write: IdempotentWrite?
    /// The response, once stored; nil while the request runs, or when storing it failed after the write.
    public var response: IdempotentResponse?

    /// Creates a record.
    public init(
        scope: IdempotencyScope, fingerprint: String, token: String, createdAt: Date, write: IdempotentWrite? = nil,
        response: IdempotentResponse? = nil
    ) {
        self.scope = scope
        self.fingerprint = fingerprint
        self.token = token
        self.createdAt = createdAt
        self.write = write
        self.response = response
    }

    /// The reservation this record stands for.
    public var reservation: IdempotencyReservation { IdempotencyReservation(scope: scope, token: token) }

    /// Whether the record no longer holds its key at `now`: older than the key's lifetime, or a reservation under
    /// which nothing was written and whose request never finished.
    public func hasLapsed(at now: Date) -> Bool {
        let age = now.timeIntervalSince(createdAt)
        return age >= IdempotencyKey.lifetime
            || (response == nil && write == nil && age >= IdempotencyKey.reservationTimeout)
    }

    /// What a new request (`self`, a fresh reservation) may do given the record stored under its scope.
    public func decide(against existing: IdempotencyRecord?) -> IdempotencyDecision {
        guard let existing, !existing.hasLapsed(at: createdAt) else { return .reserved }
        guard existing.fingerprint == fingerprint else { return .reused }
        if let response = existing.response { return .replay(response) }
        if let write = existing.write { return .unanswered(write, existing.reservation) }
        return .inUse
    }
}

/// The answer to a request that sends a key.
public enum IdempotencyDecision: Sendable, Equatable {
    /// The key is now reserved for this request: run it, then complete or release the record.
    case reserved
    /// An earlier request with the same body succeeded: answer its response again.
    case replay(IdempotentResponse)
    /// An earlier request with the same body committed its write, but its response was never stored (storing it
    /// failed, or its process died): rebuild the response from the write, store it under the reservation, answer it.
    case unanswered(IdempotentWrite, IdempotencyReservation)
    /// An earlier request with the same key is still running (409 `idempotency_key_in_use`).
    case inUse
    /// The key was used with another body (422 `idempotency_key_reused`).
    case reused

    /// The refusal for `inUse` and `reused`, nil otherwise.
    public var error: PatenError? {
        switch self {
        case .reserved, .replay, .unanswered: nil
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
    /// Stores the response of the request holding the reservation `token`, unless one is stored already; does
    /// nothing if another request took the key over meanwhile.
    func completeIdempotencyKey(_ scope: IdempotencyScope, token: String, response: IdempotentResponse) async throws
    /// Deletes the reservation `token` holds if nothing was written under it (its request failed), so that a retry
    /// under the key runs. A reservation with a write is kept: its retries are answered from the write.
    func releaseIdempotencyKey(_ scope: IdempotencyScope, token: String) async throws
    /// The record stored under the scope, lapsed or not.
    func idempotencyRecord(_ scope: IdempotencyScope) async throws -> IdempotencyRecord?
    /// What a write under a key made, as it is now, to answer a retry whose first response was never stored: the
    /// question and, for a follow-up, its message. Nil when either no longer exists.
    func idempotentWriteResult(_ write: IdempotentWrite) async throws -> IdempotentWriteResult?
}

/// The question (as it is now) and the message a write under a key made, to rebuild its response from.
public struct IdempotentWriteResult: Sendable, Equatable {
    public var question: Question
    /// The follow-up's message; nil for intake.
    public var message: Message?

    /// Creates a result.
    public init(question: Question, message: Message? = nil) {
        self.question = question
        self.message = message
    }
}
