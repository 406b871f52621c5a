import Foundation

/// Where an outbound message is.
public enum DeliveryState: String, Codable, Sendable, CaseIterable {
    /// Waiting for its next attempt (or for its endpoint to be enabled again).
    case pending
    /// A receiver answered 2xx.
    case delivered
    /// Every attempt failed, or the endpoint answered 410; kept as a dead letter until redelivered.
    case dead
}

/// How one delivery attempt ended.
public enum AttemptOutcome: String, Codable, Sendable {
    case delivered
    case failed
    /// Not sent: the destination is not allowed.
    case refused
}

/// One outbound event for one integration: the outbox row.
public struct WebhookMessage: Sendable, Equatable {
    /// The `webhook-id`, the same on every attempt and redelivery.
    public var id: String
    public var integrationId: String
    public var eventType: String
    public var questionId: String?
    /// The exact body bytes, signed afresh on each attempt.
    public var payload: [UInt8]
    public var createdAt: Date
    public var state: DeliveryState
    /// Attempts since the message was written or last redelivered.
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var deliveredAt: Date?
    public var deadAt: Date?
    public var lastError: String?

    /// Creates a message value.
    public init(
        id: String, integrationId: String, eventType: String, questionId: String?, payload: [UInt8], createdAt: Date,
        state: DeliveryState, attempts: Int, nextAttemptAt: Date?, deliveredAt: Date?, deadAt: Date?,
        lastError: String?
    ) {
        self.id = id
        self.integrationId = integrationId
        self.eventType = eventType
        self.questionId = questionId
        self.payload = payload
        self.createdAt = createdAt
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.deliveredAt = deliveredAt
        self.deadAt = deadAt
        self.lastError = lastError
    }
}

/// One attempt in the delivery log.
public struct DeliveryAttempt: Sendable, Equatable {
    /// 1 for the first attempt ever made for the message, counting on across redeliveries.
    public var attempt: Int
    public var at: Date
    public var outcome: AttemptOutcome
    public var statusCode: Int?
    public var latencyMs: Int
    public var error: String?

    /// Creates an attempt record.
    public init(attempt: Int, at: Date, outcome: AttemptOutcome, statusCode: Int?, latencyMs: Int, error: String?) {
        self.attempt = attempt
        self.at = at
        self.outcome = outcome
        self.statusCode = statusCode
        self.latencyMs = latencyMs
        self.error = error
    }
}

/// A message with its attempts, for the delivery log.
public struct DeliveryRecord: Sendable, Equatable {
    public var message: WebhookMessage
    public var attempts: [DeliveryAttempt]

    /// Creates a record.
    public init(message: WebhookMessage, attempts: [DeliveryAttempt]) {
        self.message = message
        self.attempts = attempts
    }
}

/// A message claimed for an attempt, with what is needed to send it.
public struct DueDelivery: Sendable, Equatable {
    public var message: WebhookMessage
    public var url: String
    public var secrets: [SealedSecret]
    /// Proof of the claim: only its holder records the attempt's result.
    public var claimToken: String

    /// Creates a due delivery.
    public init(message: WebhookMessage, url: String, secrets: [SealedSecret], claimToken: String) {
        self.message = message
        self.url = url
        self.secrets = secrets
        self.claimToken = claimToken
    }
}

/// What to do with a message after an attempt.
public enum DeliveryDisposition: Sendable, Equatable {
    case delivered
    /// Try again at the time.
    case retry(at: Date)
    /// The last attempt failed: keep it as a dead letter.
    case deadLetter
    /// The receiver answered 410 Gone: dead-letter it and disable the endpoint.
    case endpointGone
}

/// An attempt's result as the deliverer reports it to the store.
public struct AttemptReport: Sendable, Equatable {
    public var messageId: String
    public var integrationId: String
    /// The claim the attempt was made under.
    public var claimToken: String
    public var attempt: DeliveryAttempt
    public var disposition: DeliveryDisposition
    /// An endpoint failing for this long without a success is disabled.
    public var failingLimit: TimeInterval

    /// Creates a report.
    public init(
        messageId: String, integrationId: String, claimToken: String, attempt: DeliveryAttempt,
        disposition: DeliveryDisposition, failingLimit: TimeInterval
    ) {
        self.messageId = messageId
        self.integrationId = integrationId
        self.claimToken = claimToken
        self.attempt = attempt
        self.disposition = disposition
        self.failingLimit = failingLimit
    }
}

/// When to try again: the Standard Webhooks schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), each
/// wait spread by ±20 % so that many failing messages do not come back at once.
public struct RetrySchedule: Sendable, Equatable {
    /// The waits after the first, second, ... failed attempt.
    public var delays: [TimeInterval]
    /// The spread, as a fraction of each wait.
    public var jitter: Double

    /// The Standard Webhooks schedule.
    public static let standard = RetrySchedule(
        delays: [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600], jitter: 0.2
    )

    /// Creates a schedule.
    public init(delays: [TimeInterval], jitter: Double) {
        self.delays = delays
        self.jitter = jitter
    }

    /// Reads waits written as in the policy, comma-separated: `"5s,5m,30m,2h,5h,10h,10h"` (1 to 20 waits, each
    /// from 1 second to 1 day); the jitter stays ±20 %.
    public static func parse(_ text: String) throws -> RetrySchedule {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard (1...20).contains(parts.count) else {
            throw PatenError.configuration("webhook_retry_schedule: give 1 to 20 waits, such as \"5s,5m,30m,2h\".")
        }
        let delays = try parts.map { part -> TimeInterval in
            guard let seconds = PolicyLoader.seconds(part), (1...86400).contains(seconds) else {
                throw PatenError.configuration(
                    "webhook_retry_schedule: '\(part)' is not a wait from 1s to 1d; write a whole number and s, m, h or d."
                )
            }
            return seconds
        }
        return RetrySchedule(delays: delays, jitter: 0.2)
    }

    /// Attempts in all: the first and one per wait.
    public var maxAttempts: Int { delays.count + 1 }

    /// The wait after `failedAttempts` failures (1 or more), jittered; nil when none is left. A `Retry-After` the
    /// receiver gave replaces the schedule's wait (it is honoured as given, up to a day).
    public func delay(
        afterFailedAttempts failedAttempts: Int, retryAfter: TimeInterval? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> TimeInterval? {
        guard failedAttempts >= 1, failedAttempts <= delays.count else { return nil }
        if let retryAfter { return min(max(retryAfter, 1), 86400) }
        let base = delays[failedAttempts - 1]
        return base * Double.random(in: (1 - jitter)...(1 + jitter), using: &generator)
    }
}

/// Stores integrations, their secrets and inbound receipts.
public protocol IntegrationRepository: Sendable {
    /// Stores the account, the integration and its first secret in one transaction; a taken name is a
    /// `handle_taken` conflict.
    func insertIntegration(_ integration: Integration, account: Helper, secret: SealedSecret) async throws
    /// The integration with the id, if any.
    func integration(id: String) async throws -> Integration?
    /// Every integration, by name.
    func integrations() async throws -> [Integration]
    /// The integration with its secrets, audit trail and message counts.
    func integrationDetail(id: String) async throws -> IntegrationDetail?
    /// Secrets that are valid at the time, newest first.
    func activeSecrets(integrationId: String, at now: Date) async throws -> [SealedSecret]
    /// Applies a change (validated by the caller) and records it in the audit trail.
    func updateIntegration(id: String, change: IntegrationChange, at now: Date) async throws -> Integration
    /// Makes `secret` the current secret; the previous ones stay valid until `previousValidUntil` (or their own
    /// earlier expiry).
    func rotateSecret(integrationId: String, secret: SealedSecret, previousValidUntil: Date) async throws
    /// Ends every secret but the current one now; returns how many it ended.
    func revokePreviousSecrets(integrationId: String, at now: Date) async throws -> Int
    /// The question a conversation became, if any.
    func conversationQuestion(integrationId: String, conversationId: String) async throws -> String?
    /// Whether a webhook id was acted on already.
    func hasReceipt(integrationId: String, webhookId: String) async throws -> Bool
    /// Deletes receipts received before the time; returns how many.
    func purgeReceipts(before time: Date) async throws -> Int
}

/// Stores the outbox and its delivery log.
public protocol OutboxRepository: Sendable {
    /// Claims up to `limit` due messages of enabled endpoints other than `excluding`, each under a fresh claim
    /// token, putting each off by `lease` so that no other deliverer takes it meanwhile.
    func claimDueMessages(
        at now: Date, lease: TimeInterval, limit: Int, excluding: Set<String>
    ) async throws
        -> [DueDelivery]
    /// Extends claims (by token) before an attempt; returns the tokens still held. A claim is lost when its
    /// lease ran out and another deliverer took the message, or its endpoint's address or secrets changed.
    func renewClaims(_ tokens: [String], until: Date) async throws -> Set<String>
    /// Gives claims back unattempted, to be tried again at the time (an endpoint that just failed is not sent
    /// its other messages at once).
    func releaseClaims(_ tokens: [String], nextAttemptAt: Date) async throws
    /// Logs the attempt and, if the claim still holds, moves the message (and, on 410 or a long failure, its
    /// endpoint) on. Returns whether the endpoint still takes messages.
    func finishAttempt(_ report: AttemptReport) async throws -> Bool
    /// One message with its attempts.
    func delivery(id: String) async throws -> DeliveryRecord?
    /// An integration's messages, newest first, optionally in one state, after a cursor.
    func deliveries(
        integrationId: String, state: DeliveryState?, before: QuestionCursor?, limit: Int
    )
        async throws -> [DeliveryRecord]
    /// Puts a message back in the queue for an attempt now, keeping its id: `delivery_in_flight` while an
    /// attempt is being made, `outbound_disabled` while its endpoint cannot take it.
    func redeliver(messageId: String, at now: Date) async throws -> WebhookMessage
    /// Puts every delivered or dead message written since the time back in the queue; returns how many.
    func redeliver(integrationId: String, since: Date, at now: Date) async throws -> Int
    /// Messages of every integration by state.
    func messageCounts() async throws -> [DeliveryState: Int]
    /// Deletes delivered messages written before one time and dead ones before another, with their attempts;
    /// returns how many messages.
    func purgeMessages(deliveredBefore: Date, deadBefore: Date) async throws -> Int
}
