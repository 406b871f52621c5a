import Foundation

/// How an integration signs what it sends and how Paten verifies it.
public enum IntegrationKind: String, Codable, Sendable, CaseIterable {
    /// Standard Webhooks v1, with `whsec_` secrets.
    case standard
    /// The Slack Events API with Slack's request signing (v0).
    case slack
}

/// Whether an integration is in use. A disabled one is refused inbound (401) and queues nothing outbound.
public enum IntegrationState: String, Codable, Sendable, CaseIterable {
    case active
    case disabled
}

/// The outbound events a subscriber can ask for.
public enum OutboundEventType: String, Codable, Sendable, CaseIterable {
    case questionCreated = "question.created"
    case questionRouted = "question.routed"
    case questionClaimed = "question.claimed"
    case questionReleased = "question.released"
    case questionReplied = "question.replied"
    case questionCustomerReplied = "question.customer_replied"
    case questionEscalated = "question.escalated"
    case escalationAcknowledged = "escalation.acknowledged"
    case escalationResolved = "escalation.resolved"
    case slaWarning = "sla.warning"
    case slaBreached = "sla.breached"
    case questionResolved = "question.resolved"
    case questionReopened = "question.reopened"
    case ratingReceived = "rating.received"
    case helperLevelChanged = "helper.level_changed"
    case helperBadgeAwarded = "helper.badge_awarded"
    case incidentOpened = "incident.opened"
    case incidentUpdated = "incident.updated"
    case incidentResolved = "incident.resolved"

    /// The outbound event a timeline event is sent as, if any (a lease running out is not sent).
    public init?(_ type: QuestionEventType) {
        switch type {
        case .created: self = .questionCreated
        case .routed: self = .questionRouted
        case .claimed: self = .questionClaimed
        case .released: self = .questionReleased
        case .replied: self = .questionReplied
        case .customerReplied: self = .questionCustomerReplied
        case .resolved: self = .questionResolved
        case .reopened: self = .questionReopened
        case .escalated: self = .questionEscalated
        case .rated: self = .ratingReceived
        case .slaWarning: self = .slaWarning
        case .slaBreached: self = .slaBreached
        case .levelChanged: self = .helperLevelChanged
        case .badgeAwarded: self = .helperBadgeAwarded
        case .incidentOpened: self = .incidentOpened
        case .incidentUpdated: self = .incidentUpdated
        case .incidentResolved: self = .incidentResolved
        case .claimExpired, .helperPaused, .incidentLinked, .incidentUnlinked: return nil
        }
    }
}

extension OutboundEventType {
    /// Subscribed events as both databases store them: `,a,b,`, so that `LIKE '%,a,%'` finds subscribers.
    public static func storedList(_ events: [OutboundEventType]) -> String {
        events.isEmpty ? "," : "," + events.map(\.rawValue).joined(separator: ",") + ","
    }

    /// Reads a stored list back; an unknown name is a corrupt row.
    public static func parse(storedList text: String) throws -> [OutboundEventType] {
        try text.split(separator: ",").map { name in
            guard let event = OutboundEventType(rawValue: String(name)) else {
                throw PatenError(.unavailable, code: "corrupt_row", message: "Stored event '\(name)' is not known.")
            }
            return event
        }
    }
}

/// A chat platform or the company's own system, connected through signed webhooks. Its id is the id of its
/// account (role `integration`), which is also the `channel` of the questions it brings in.
public struct Integration: Sendable, Equatable {
    public var id: String
    /// The account's handle.
    public var name: String
    public var kind: IntegrationKind
    public var state: IntegrationState
    /// Whether `POST /hooks/{id}` accepts messages.
    public var inboundEnabled: Bool
    /// Where outbound events go; nil for none.
    public var outboundURL: String?
    /// Subscribed outbound events.
    public var events: [OutboundEventType]
    /// Events about every question (true) or only the questions this integration brought in (false).
    public var allChannels: Bool
    /// When the endpoint was disabled (410 or failing too long, or by hand); messages wait while it is.
    public var outboundDisabledAt: Date?
    public var outboundDisabledReason: String?
    /// Since when delivery attempts have failed without a success in between.
    public var failingSince: Date?
    public var createdAt: Date
    public var updatedAt: Date

    /// Creates an integration value.
    public init(
        id: String, name: String, kind: IntegrationKind, state: IntegrationState, inboundEnabled: Bool,
        outboundURL: String?, events: [OutboundEventType], allChannels: Bool, outboundDisabledAt: Date? = nil,
        outboundDisabledReason: String? = nil, failingSince: Date? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.state = state
        self.inboundEnabled = inboundEnabled
        self.outboundURL = outboundURL
        self.events = events
        self.allChannels = allChannels
        self.outboundDisabledAt = outboundDisabledAt
        self.outboundDisabledReason = outboundDisabledReason
        self.failingSince = failingSince
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A signing secret as stored: sealed, with its validity.
public struct SealedSecret: Sendable, Equatable {
    public var id: String
    public var sealed: [UInt8]
    public var createdAt: Date
    /// Nil for the current secret; the end of the overlap window for a rotated-out one.
    public var expiresAt: Date?

    /// Creates a sealed secret.
    public init(id: String, sealed: [UInt8], createdAt: Date, expiresAt: Date?) {
        self.id = id
        self.sealed = sealed
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// Whether it signs and verifies at the time.
    public func isActive(at now: Date) -> Bool { expiresAt.map { $0 > now } ?? true }
}

/// Something an admin should know about an integration.
public struct IntegrationAuditEvent: Sendable, Equatable {
    /// `integration.created`, `secret.rotated`, `secret.previous_revoked`, `integration.disabled`,
    /// `integration.enabled`, `endpoint.disabled`, `endpoint.enabled`, `integration.updated`.
    public var type: String
    public var at: Date
    public var detail: String

    /// Creates an audit event.
    public init(type: String, at: Date, detail: String) {
        self.type = type
        self.at = at
        self.detail = detail
    }
}

/// An integration with its secrets (metadata only) and its audit trail, newest first.
public struct IntegrationDetail: Sendable, Equatable {
    public var integration: Integration
    public var secrets: [SealedSecret]
    public var audit: [IntegrationAuditEvent]
    /// Outbox messages by state.
    public var messageCounts: [DeliveryState: Int]

    /// Creates a detail value.
    public init(
        integration: Integration, secrets: [SealedSecret], audit: [IntegrationAuditEvent],
        messageCounts: [DeliveryState: Int]
    ) {
        self.integration = integration
        self.secrets = secrets
        self.audit = audit
        self.messageCounts = messageCounts
    }
}

/// A change to an integration; nil fields stay as they are.
public struct IntegrationChange: Sendable, Equatable {
    public var inboundEnabled: Bool?
    /// `.some(nil)` removes the outbound URL.
    public var outboundURL: String??
    public var events: [OutboundEventType]?
    public var allChannels: Bool?
    public var state: IntegrationState?
    /// True re-enables an endpoint that was disabled; false disables it by hand.
    public var outboundEnabled: Bool?

    /// Creates a change.
    public init(
        inboundEnabled: Bool? = nil, outboundURL: String?? = nil, events: [OutboundEventType]? = nil,
        allChannels: Bool? = nil, state: IntegrationState? = nil, outboundEnabled: Bool? = nil
    ) {
        self.inboundEnabled = inboundEnabled
        self.outboundURL = outboundURL
        self.events = events
        self.allChannels = allChannels
        self.state = state
        self.outboundEnabled = outboundEnabled
    }

    /// Whether the change asks for nothing.
    public var isEmpty: Bool { self == IntegrationChange() }
}

/// Where an inbound message came from, stored with the change it causes so a repeat is recognised.
public struct InboundOrigin: Sendable, Equatable {
    public var integrationId: String
    /// The `webhook-id` (Slack: `event_id`).
    public var webhookId: String
    /// The conversation in the chat platform (Slack: channel and thread).
    public var conversationId: String
    /// The message's id in the chat platform.
    public var externalMessageId: String?
    /// When the chat platform says the message was sent.
    public var sentAt: Date?

    /// Creates an origin.
    public init(
        integrationId: String, webhookId: String, conversationId: String, externalMessageId: String?, sentAt: Date?
    ) {
        self.integrationId = integrationId
        self.webhookId = webhookId
        self.conversationId = conversationId
        self.externalMessageId = externalMessageId
        self.sentAt = sentAt
    }

    /// Facts recorded with the timeline event the message causes.
    public var eventData: [String: String] {
        var data = ["conversation_id": conversationId, "webhook_id": webhookId]
        data["external_message_id"] = externalMessageId
        data["sent_at"] = sentAt.map(RFC3339.format)
        return data
    }
}

/// Seals and opens signing secrets (AES-GCM in production). `context` binds a sealed value to its integration.
public protocol SecretSealer: Sendable {
    func seal(_ secret: String, context: String) throws -> [UInt8]
    func open(_ sealed: [UInt8], context: String) throws -> String
}

/// Decides whether Paten may send to a URL (no private, loopback or link-local addresses unless allowed).
public protocol DestinationGuard: Sendable {
    /// Throws `destination_not_allowed` (422) when the URL may not be used.
    func check(_ url: String) async throws
}
