import Foundation
import Hummingbird
import PatenCore

// The JSON shapes the API returns. The CLI decodes the same types, so server and client cannot drift apart.

/// A question as the API shows it.
public struct QuestionResource: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var subject: String
    public var customer: Customer
    public var channel: String
    public var topic: String
    public var language: String
    public var priority: Priority
    public var tier: Tier
    public var state: QuestionState
    public var holderId: String?
    public var holderHandle: String?
    public var leaseExpiresAt: Date?
    public var peerDeadlineAt: Date?
    public var firstResponseAt: Date?
    public var resolvedAt: Date?
    public var resolvedBy: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// The incident the question belongs to, with its latest update (in its detail and the queue).
    public var incident: IncidentBriefResource?

    /// The resource for a question; `handles` resolves helper ids where known.
    public init(_ question: Question, handles: [String: String] = [:]) {
        id = question.id
        subject = question.subject
        customer = question.customer
        channel = question.channel
        topic = question.topic
        language = question.language
        priority = question.priority
        tier = question.tier
        state = question.state
        holderId = question.holderId
        holderHandle = question.holderId.flatMap { handles[$0] }
        leaseExpiresAt = question.leaseExpiresAt
        peerDeadlineAt = question.peerDeadlineAt
        firstResponseAt = question.firstResponseAt
        resolvedAt = question.resolvedAt
        resolvedBy = question.resolvedBy
        createdAt = question.createdAt
        updatedAt = question.updatedAt
    }
}

/// A message as the API shows it.
public struct MessageResource: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var authorKind: AuthorKind
    public var authorId: String?
    public var authorHandle: String?
    public var body: String
    public var createdAt: Date

    /// The resource for a message.
    public init(_ message: Message, handles: [String: String] = [:]) {
        id = message.id
        authorKind = message.authorKind
        authorId = message.helperId
        authorHandle = message.helperId.flatMap { handles[$0] }
        body = message.body
        createdAt = message.createdAt
    }
}

/// A timeline event as the API shows it.
public struct EventResource: Codable, Sendable, Equatable {
    public var sequence: Int64
    public var type: String
    public var actorId: String?
    public var actorHandle: String?
    public var at: Date
    public var data: [String: String]

    /// The resource for an event.
    public init(_ event: QuestionEvent, handles: [String: String]) {
        sequence = event.sequence
        type = event.type.rawValue
        actorId = event.actorId
        actorHandle = event.actorId.flatMap { handles[$0] }
        at = event.at
        data = event.data
    }
}

/// A question with a page of its messages and timeline.
public struct QuestionDetailResource: ResponseCodable, Sendable, Equatable {
    public var question: QuestionResource
    public var messages: [MessageResource]
    public var timeline: [EventResource]
    /// Pass as `messages_after` for the next page of messages; absent on the last page.
    public var messagesNextCursor: String?
    /// Pass as `timeline_after` for the next page of the timeline; absent on the last page.
    public var timelineNextCursor: String?
    /// The customer's single-use rating link, for those entitled to it while it is unused and valid.
    public var ratingUrl: String?

    /// The resource for a question's detail.
    public init(_ detail: QuestionDetail) {
        question = QuestionResource(detail.question, handles: detail.handles)
        messages = detail.messages.map { MessageResource($0, handles: detail.handles) }
        timeline = detail.events.map { EventResource($0, handles: detail.handles) }
        messagesNextCursor = detail.messagesNext
        timelineNextCursor = detail.eventsNext.map(String.init)
        ratingUrl = detail.ratingUrl
    }
}

/// A page of questions.
public struct QuestionListResource: ResponseCodable, Sendable, Equatable {
    public var questions: [QuestionResource]
    /// Pass as `cursor` to get the next page; absent on the last page.
    public var nextCursor: String?

    /// Creates a page resource.
    public init(questions: [QuestionResource], nextCursor: String?) {
        self.questions = questions
        self.nextCursor = nextCursor
    }
}

/// A reply or customer message with the question it changed.
public struct MessagePostedResource: ResponseCodable, Sendable, Equatable {
    public var question: QuestionResource
    public var message: MessageResource
}

/// A helper account as the API shows it.
public struct HelperResource: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var handle: String
    public var displayName: String
    public var role: Role
    public var skills: [String]
    public var languages: [String]
    public var capacity: Int
    public var presence: Presence
    public var active: Bool
    public var createdAt: Date
    public var updatedAt: Date

    /// The resource for a helper.
    public init(_ helper: Helper) {
        id = helper.id
        handle = helper.handle
        displayName = helper.displayName
        role = helper.role
        skills = helper.skills
        languages = helper.languages
        capacity = helper.capacity
        presence = helper.presence
        active = helper.active
        createdAt = helper.createdAt
        updatedAt = helper.updatedAt
    }
}

/// A list of helpers.
public struct HelperListResource: ResponseCodable, Sendable, Equatable {
    public var helpers: [HelperResource]
}

/// A token's facts; never its secret, except in `IssuedTokenResource`.
public struct TokenResource: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var helperId: String
    public var label: String
    public var prefix: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    /// The resource for a token.
    public init(_ token: AccessToken) {
        id = token.id
        helperId = token.helperId
        label = token.label
        prefix = token.prefix
        createdAt = token.createdAt
        lastUsedAt = token.lastUsedAt
        revokedAt = token.revokedAt
    }
}

/// A newly issued token with its secret, shown this once.
public struct IssuedTokenResource: ResponseCodable, Sendable, Equatable {
    public var token: String
    public var record: TokenResource

    /// The resource for an issued token.
    public init(_ issued: IssuedToken) {
        token = issued.secret
        record = TokenResource(issued.record)
    }
}

/// A list of tokens.
public struct TokenListResource: ResponseCodable, Sendable, Equatable {
    public var tokens: [TokenResource]
}

/// An escalation as the API shows it.
public struct EscalationResource: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var questionId: String
    public var reason: EscalationReason
    public var level: Int
    public var state: EscalationState
    public var note: String?
    public var createdBy: String?
    public var createdAt: Date
    public var acknowledgedAt: Date?
    public var acknowledgedBy: String?
    public var resolvedAt: Date?
    public var resolvedBy: String?
    public var updatedAt: Date
    public var questionSubject: String
    public var questionTopic: String
    public var questionPriority: Priority

    /// The resource for an escalation.
    public init(_ escalation: Escalation) {
        id = escalation.id
        questionId = escalation.questionId
        reason = escalation.reason
        level = escalation.level
        state = escalation.state
        note = escalation.note
        createdBy = escalation.createdBy
        createdAt = escalation.createdAt
        acknowledgedAt = escalation.acknowledgedAt
        acknowledgedBy = escalation.acknowledgedBy
        resolvedAt = escalation.resolvedAt
        resolvedBy = escalation.resolvedBy
        updatedAt = escalation.updatedAt
        questionSubject = escalation.questionSubject
        questionTopic = escalation.questionTopic
        questionPriority = escalation.questionPriority
    }
}

/// A list of escalations.
public struct EscalationListResource: ResponseCodable, Sendable, Equatable {
    public var escalations: [EscalationResource]
}

/// A recorded rating.
public struct RatingResource: ResponseCodable, Sendable, Equatable {
    public var questionId: String
    public var score: Int
    public var comment: String?
    public var solved: Bool?
    public var ratedAt: Date

    /// The resource for a rating.
    public init(_ rating: Rating) {
        questionId = rating.questionId
        score = rating.score
        comment = rating.comment
        solved = rating.solved
        ratedAt = rating.ratedAt
    }
}
