import Foundation
import Hummingbird
import PatenCore

/// An integration as the API shows it (never its secrets).
public struct IntegrationResource: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var kind: IntegrationKind
    public var state: IntegrationState
    public var inboundEnabled: Bool
    /// The inbound endpoint path, `/hooks/{id}`.
    public var inboundPath: String
    public var outboundUrl: String?
    public var events: [OutboundEventType]
    public var allChannels: Bool
    /// Whether outbound messages are being sent now.
    public var outboundEnabled: Bool
    public var outboundDisabledAt: Date?
    public var outboundDisabledReason: String?
    public var failingSince: Date?
    public var createdAt: Date
    public var updatedAt: Date

    /// The resource for an integration.
    public init(_ integration: Integration) {
        id = integration.id
        name = integration.name
        kind = integration.kind
        state = integration.state
        inboundEnabled = integration.inboundEnabled
        inboundPath = "/hooks/\(integration.id)"
        outboundUrl = integration.outboundURL
        events = integration.events
        allChannels = integration.allChannels
        outboundEnabled = integration.outboundURL != nil && integration.outboundDisabledAt == nil
        outboundDisabledAt = integration.outboundDisabledAt
        outboundDisabledReason = integration.outboundDisabledReason
        failingSince = integration.failingSince
        createdAt = integration.createdAt
        updatedAt = integration.updatedAt
    }
}

/// An integration with the secret it was just given: shown this once.
public struct IntegrationSecretResource: ResponseCodable, Sendable, Equatable {
    public var integration: IntegrationResource
    public var secret: String

    /// Creates the resource.
    public init(_ value: IntegrationWithSecret) {
        integration = IntegrationResource(value.integration)
        secret = value.secret
    }
}

/// `GET /v1/integrations`.
public struct IntegrationListResource: ResponseCodable, Sendable, Equatable {
    public var integrations: [IntegrationResource]

    /// Creates the list.
    public init(integrations: [IntegrationResource]) {
        self.integrations = integrations
    }
}

/// `GET /v1/integrations/{id}`: settings, secrets' validity, audit trail and delivery counts.
public struct IntegrationDetailResource: ResponseCodable, Sendable, Equatable {
    public struct Secret: Codable, Sendable, Equatable {
        public var id: String
        public var createdAt: Date
        public var expiresAt: Date?
        public var active: Bool
    }

    public struct AuditEvent: Codable, Sendable, Equatable {
        public var type: String
        public var at: Date
        public var detail: String
    }

    public var integration: IntegrationResource
    public var secrets: [Secret]
    public var audit: [AuditEvent]
    public var deliveries: [String: Int]

    /// Creates the resource; `now` decides which secrets are active.
    public init(_ detail: IntegrationDetail, now: Date) {
        integration = IntegrationResource(detail.integration)
        secrets = detail.secrets.map {
            Secret(id: $0.id, createdAt: $0.createdAt, expiresAt: $0.expiresAt, active: $0.isActive(at: now))
        }
        audit = detail.audit.map { AuditEvent(type: $0.type, at: $0.at, detail: $0.detail) }
        deliveries = Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0.rawValue, detail.messageCounts[$0] ?? 0) })
    }
}

/// One outbound message with its delivery log.
public struct DeliveryResource: ResponseCodable, Sendable, Equatable {
    public struct Attempt: Codable, Sendable, Equatable {
        public var attempt: Int
        public var at: Date
        public var outcome: AttemptOutcome
        public var statusCode: Int?
        public var latencyMs: Int
        public var error: String?
    }

    /// The `webhook-id`.
    public var id: String
    public var integrationId: String
    public var eventType: String
    public var questionId: String?
    public var state: DeliveryState
    public var attemptCount: Int
    public var nextAttemptAt: Date?
    public var deliveredAt: Date?
    public var deadAt: Date?
    public var lastError: String?
    public var createdAt: Date
    public var attempts: [Attempt]
    /// The body as sent, when asked for.
    public var payload: String?

    /// Creates the resource.
    public init(_ record: DeliveryRecord, withPayload: Bool = false) {
        let message = record.message
        id = message.id
        integrationId = message.integrationId
        eventType = message.eventType
        questionId = message.questionId
        state = message.state
        attemptCount = message.attempts
        nextAttemptAt = message.nextAttemptAt
        deliveredAt = message.deliveredAt
        deadAt = message.deadAt
        lastError = message.lastError
        createdAt = message.createdAt
        attempts = record.attempts.map {
            Attempt(
                attempt: $0.attempt, at: $0.at, outcome: $0.outcome, statusCode: $0.statusCode, latencyMs: $0.latencyMs,
                error: $0.error
            )
        }
        payload = withPayload ? String(decoding: message.payload, as: UTF8.self) : nil
    }
}

/// A page of deliveries, newest first.
public struct DeliveryListResource: ResponseCodable, Sendable, Equatable {
    public var deliveries: [DeliveryResource]
    public var nextCursor: String?

    /// Creates the page.
    public init(deliveries: [DeliveryResource], nextCursor: String?) {
        self.deliveries = deliveries
        self.nextCursor = nextCursor
    }
}

/// How many messages a bulk redelivery queued.
public struct RedeliveryResource: ResponseCodable, Sendable, Equatable {
    public var queued: Int

    /// Creates the resource.
    public init(queued: Int) {
        self.queued = queued
    }
}

/// How many previous secrets were ended.
public struct RevokedSecretsResource: ResponseCodable, Sendable, Equatable {
    public var revoked: Int

    /// Creates the resource.
    public init(revoked: Int) {
        self.revoked = revoked
    }
}
