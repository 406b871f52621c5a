import Foundation

/// The JSON body of an outbound event, as documented in docs/webhooks.md:
/// `{"type": ..., "timestamp": ..., "data": {...}}` with snake_case keys and RFC 3339 UTC times.
public struct OutboundPayload: Encodable, Sendable, Equatable {
    public var type: String
    public var timestamp: String
    public var data: Body

    /// The event's facts: the question as it stands after the change, and what the change was about.
    public struct Body: Encodable, Sendable, Equatable {
        public var questionId: String
        /// `api` or the id of the integration the question came in through.
        public var channel: String
        /// The chat conversation, for questions that came in through an inbound webhook.
        public var conversationId: String?
        public var subject: String
        public var customer: Customer
        public var topic: String
        public var language: String
        public var priority: String
        public var tier: String
        public var state: String
        public var holderId: String?
        /// Who caused the event; absent for the system (routing, the sweeper, a customer's rating).
        public var actor: Actor?
        /// The message the event is about (created, replied, customer_replied).
        public var message: MessageBody?
        /// The escalation the event is about (question.escalated, escalation.*).
        public var escalation: EscalationBody?
        /// The single-use rating link (question.resolved).
        public var ratingUrl: String?
        /// The rest of the timeline event's facts, as strings.
        public var details: [String: String]

        /// Creates a body.
        public init(
            question: Question, conversationId: String?, actor: Actor?, message: MessageBody?,
            escalation: EscalationBody?, ratingUrl: String?, details: [String: String]
        ) {
            questionId = question.id
            channel = question.channel
            self.conversationId = conversationId
            subject = question.subject
            customer = question.customer
            topic = question.topic
            language = question.language
            priority = question.priority.rawValue
            tier = question.tier.rawValue
            state = question.state.rawValue
            holderId = question.holderId
            self.actor = actor
            self.message = message
            self.escalation = escalation
            self.ratingUrl = ratingUrl
            self.details = details
        }
    }

    /// An account that caused an event.
    public struct Actor: Encodable, Sendable, Equatable {
        public var id: String
        public var handle: String
        public var displayName: String
        public var role: String

        /// Creates an actor from an account.
        public init(_ helper: Helper) {
            id = helper.id
            handle = helper.handle
            displayName = helper.displayName
            role = helper.role.rawValue
        }
    }

    /// A message in a payload.
    public struct MessageBody: Encodable, Sendable, Equatable {
        public var id: String
        /// `customer` or `helper`.
        public var author: String
        public var text: String
        public var createdAt: String

        /// Creates a message body.
        public init(_ message: Message) {
            id = message.id
            author = message.authorKind.rawValue
            text = message.body
            createdAt = RFC3339.format(message.createdAt)
        }
    }

    /// An escalation in a payload.
    public struct EscalationBody: Encodable, Sendable, Equatable {
        public var id: String
        public var reason: String
        public var level: Int
        public var state: String
        public var note: String?

        /// Creates an escalation body.
        public init(_ escalation: Escalation) {
            id = escalation.id
            reason = escalation.reason.rawValue
            level = escalation.level
            state = escalation.state.rawValue
            note = escalation.note
        }
    }

    /// Creates a payload.
    public init(type: OutboundEventType, at time: Date, data: Body) {
        self.type = type.rawValue
        timestamp = RFC3339.format(time)
        self.data = data
    }

    /// An event's bodies for its subscribers, built once per event: `shared` for every subscriber, and `own`, which
    /// adds the customer's single-use rating link, for the integration the question came in through. Timeline
    /// facts that have fields of their own (`message_id`, `escalation_id`, `rating_url`) leave `details`.
    public static func bodies(
        _ type: OutboundEventType, at time: Date, question: Question, conversationId: String?, actor: Helper?,
        message: Message?, escalation: Escalation?, details: [String: String]
    ) throws -> (shared: [UInt8], own: [UInt8]) {
        var rest = details
        for key in ["message_id", "escalation_id", "rating_url"] { rest[key] = nil }
        var body = Body(
            question: question, conversationId: conversationId, actor: actor.map(Actor.init),
            message: message.map(MessageBody.init), escalation: escalation.map(EscalationBody.init), ratingUrl: nil,
            details: rest
        )
        let shared = try OutboundPayload(type: type, at: time, data: body).encoded()
        guard let link = details["rating_url"] else { return (shared, shared) }
        body.ratingUrl = link
        return (shared, try OutboundPayload(type: type, at: time, data: body).encoded())
    }

    /// The exact bytes sent (and signed) on every attempt.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}

/// What became of an inbound webhook.
public enum InboundOutcome: Sendable, Equatable {
    /// A new conversation became this question.
    case questionCreated(String)
    /// A known conversation's question got a customer message.
    case messageAdded(String)
    /// The webhook id was acted on before; nothing changed.
    case duplicate
    /// Verified but not for Paten (a bot's message, another event type); nothing changed.
    case ignored(String)
    /// Slack's `url_verification`: answer with the challenge.
    case challenge(String)
    /// Unknown or disabled integration, or a signature that does not verify: a uniform 401.
    case rejected
}

/// Receives inbound webhooks; the HTTP layer hands it the raw request.
public protocol InboundWebhookHandling: Sendable {
    /// Verifies the request over the raw bytes, then acts on it. Header names are lowercase. Throws `PatenError`
    /// for a verified request whose payload is not valid.
    func receive(integrationId: String, headers: [String: String], body: [UInt8]) async throws -> InboundOutcome
}
