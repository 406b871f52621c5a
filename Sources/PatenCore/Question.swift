import Foundation

/// The customer who asked.
public struct Customer: Codable, Sendable, Equatable {
    /// The customer's id in the channel they wrote from.
    public var id: String
    /// The customer's name as the channel knows it.
    public var name: String

    /// Creates a customer.
    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// One customer conversation and where it stands.
public struct Question: Sendable, Equatable {
    public var id: String
    public var subject: String
    public var customer: Customer
    /// Where the question came from: `api` or the submitting integration's id.
    public var channel: String
    public var topic: String
    public var language: String
    public var priority: Priority
    public var tier: Tier
    public var state: QuestionState
    /// The helper holding the question, while claimed.
    public var holderId: String?
    /// When the holder's lease runs out, while claimed.
    public var leaseExpiresAt: Date?
    /// When volunteers' time for a first response runs out (volunteer tier only).
    public var peerDeadlineAt: Date?
    /// The first helper reply's time: the end of the first-response clock.
    public var firstResponseAt: Date?
    public var resolvedAt: Date?
    public var resolvedBy: String?
    /// The account that submitted the question.
    public var createdBy: String
    public var createdAt: Date
    public var updatedAt: Date
    /// The incident it is linked to, as the queue reads it (in the same read, so a page of the queue costs no second
    /// transaction); nil where a read does not say. Not part of the question's row.
    public var incidentId: String?

    /// Creates a question value.
    public init(
        id: String, subject: String, customer: Customer, channel: String, topic: String, language: String,
        priority: Priority, tier: Tier, state: QuestionState, holderId: String? = nil, leaseExpiresAt: Date? = nil,
        peerDeadlineAt: Date? = nil, firstResponseAt: Date? = nil, resolvedAt: Date? = nil, resolvedBy: String? = nil,
        createdBy: String, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.subject = subject
        self.customer = customer
        self.channel = channel
        self.topic = topic
        self.language = language
        self.priority = priority
        self.tier = tier
        self.state = state
        self.holderId = holderId
        self.leaseExpiresAt = leaseExpiresAt
        self.peerDeadlineAt = peerDeadlineAt
        self.firstResponseAt = firstResponseAt
        self.resolvedAt = resolvedAt
        self.resolvedBy = resolvedBy
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether a helper may claim it at the given time: open, or held under a lease that has run out.
    public func isClaimable(at now: Date) -> Bool {
        switch state {
        case .open: true
        case .claimed: (leaseExpiresAt ?? .distantPast) <= now
        case .resolved: false
        }
    }
}

/// One message in a conversation.
public struct Message: Sendable, Equatable {
    public var id: String
    public var questionId: String
    public var authorKind: AuthorKind
    /// The helper who wrote it, for helper messages.
    public var helperId: String?
    public var body: String
    public var createdAt: Date

    /// Creates a message.
    public init(id: String, questionId: String, authorKind: AuthorKind, helperId: String?, body: String, createdAt: Date) {
        self.id = id
        self.questionId = questionId
        self.authorKind = authorKind
        self.helperId = helperId
        self.body = body
        self.createdAt = createdAt
    }
}

/// One fact in a question's timeline.
public struct QuestionEvent: Sendable, Equatable {
    /// Position in the global event order.
    public var sequence: Int64
    public var questionId: String
    public var type: QuestionEventType
    /// The account that caused it; nil for the system (lease expiry, routing).
    public var actorId: String?
    public var at: Date
    /// Facts specific to the event type.
    public var data: [String: String]

    /// Creates an event.
    public init(
        sequence: Int64, questionId: String, type: QuestionEventType, actorId: String?, at: Date,
        data: [String: String]
    ) {
        self.sequence = sequence
        self.questionId = questionId
        self.type = type
        self.actorId = actorId
        self.at = at
        self.data = data
    }
}

/// A question with one page of what was said and done about it.
public struct QuestionDetail: Sendable, Equatable {
    public var question: Question
    /// Messages in the order they were written, from the page's start.
    public var messages: [Message]
    /// Timeline events in order, from the page's start.
    public var events: [QuestionEvent]
    /// Handles of the helpers named in the question (holder, message authors), by id.
    public var handles: [String: String]
    /// The last message's id when more messages follow: where the next page starts.
    public var messagesNext: String?
    /// The last event's sequence number when more events follow.
    public var eventsNext: Int64?
    /// The question's rating link as stored (hash and times), if one was issued.
    public var ratingLink: IssuedRatingLink?
    /// The customer's rating link, for a viewer entitled to it (see `RatingLinks`).
    public var ratingUrl: String?

    /// Creates a detail value.
    public init(
        question: Question, messages: [Message], events: [QuestionEvent], handles: [String: String],
        messagesNext: String? = nil, eventsNext: Int64? = nil, ratingLink: IssuedRatingLink? = nil
    ) {
        self.question = question
        self.messages = messages
        self.events = events
        self.handles = handles
        self.messagesNext = messagesNext
        self.eventsNext = eventsNext
        self.ratingLink = ratingLink
    }
}

/// Which page of a question's messages and timeline to read: each a limit and where the previous page ended.
public struct DetailPage: Sendable, Equatable {
    /// Messages and events per page unless asked otherwise.
    public static let defaultLimit = 100
    /// The most a page may hold.
    public static let maxLimit = 500

    public var messageLimit: Int
    /// The id of the last message already read.
    public var messagesAfter: String?
    public var eventLimit: Int
    /// The sequence number of the last event already read.
    public var eventsAfter: Int64?

    /// Creates a page request; the defaults read the first page of each.
    public init(
        messageLimit: Int = DetailPage.defaultLimit, messagesAfter: String? = nil,
        eventLimit: Int = DetailPage.defaultLimit, eventsAfter: Int64? = nil
    ) {
        self.messageLimit = messageLimit
        self.messagesAfter = messagesAfter
        self.eventLimit = eventLimit
        self.eventsAfter = eventsAfter
    }
}

/// A question as it is about to be stored, with its first message.
public struct QuestionDraft: Sendable, Equatable {
    public var question: Question
    public var body: String
    /// Why intake routed it the way it did, recorded with the routed event.
    public var routingReason: String
    /// The inbound webhook it came from, if any: stored with it, so a repeat is recognised.
    public var origin: InboundOrigin?

    /// Creates a draft.
    public init(question: Question, body: String, routingReason: String, origin: InboundOrigin? = nil) {
        self.question = question
        self.body = body
        self.routingReason = routingReason
        self.origin = origin
    }
}
