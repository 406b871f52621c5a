import Foundation

/// Where an incident stands.
public enum IncidentState: String, Codable, Sendable, CaseIterable {
    /// New similar questions join it; staff post updates.
    case open
    /// Staff resolved it with a final message.
    case resolved
    /// Merged into another incident, which holds its questions now.
    case merged
}

/// How a question came to belong to an incident.
public enum IncidentLinkKind: String, Codable, Sendable, CaseIterable {
    /// In the group whose surge opened the incident.
    case detected
    /// Similar to one of its questions at intake, while it was open.
    case joined
    /// Linked by staff.
    case manual
}

/// A surge of similar questions, linked and answered as one. The facts of the surge that opened it (`observed` against
/// `expected`, `topTerms`) are kept as they were; the counts of its questions are read from its links.
public struct Incident: Sendable, Equatable {
    public var id: String
    public var state: IncidentState
    /// What it is about: the subject of the question most like the others, contact data masked.
    public var title: String
    /// The words most of its questions shared when it opened.
    public var topTerms: [String]
    /// Questions of the group in the window when it opened.
    public var observed: Int
    /// The mean count of the same window over the past weeks.
    public var expected: Double
    /// The Poisson probability of `observed` or more at `expected`.
    public var probability: Double
    /// The window the surge was counted in, in seconds.
    public var window: TimeInterval
    /// The question whose intake opened it: incident events are recorded in its timeline.
    public var anchorQuestionId: String
    public var openedAt: Date
    public var resolvedAt: Date?
    public var resolvedBy: String?
    /// The incident it was merged into.
    public var mergedInto: String?
    public var updatedAt: Date

    /// Creates an incident.
    public init(
        id: String, state: IncidentState, title: String, topTerms: [String], observed: Int, expected: Double,
        probability: Double, window: TimeInterval, anchorQuestionId: String, openedAt: Date, resolvedAt: Date? = nil,
        resolvedBy: String? = nil, mergedInto: String? = nil, updatedAt: Date
    ) {
        self.id = id
        self.state = state
        self.title = title
        self.topTerms = topTerms
        self.observed = observed
        self.expected = expected
        self.probability = probability
        self.window = window
        self.anchorQuestionId = anchorQuestionId
        self.openedAt = openedAt
        self.resolvedAt = resolvedAt
        self.resolvedBy = resolvedBy
        self.mergedInto = mergedInto
        self.updatedAt = updatedAt
    }
}

/// A message staff post to every customer of an incident.
public struct IncidentUpdate: Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case update
        /// The final message the incident was resolved with.
        case resolution
    }

    public var id: String
    public var incidentId: String
    public var kind: Kind
    public var body: String
    public var createdBy: String
    public var createdAt: Date

    /// Creates an update.
    public init(id: String, incidentId: String, kind: Kind, body: String, createdBy: String, createdAt: Date) {
        self.id = id
        self.incidentId = incidentId
        self.kind = kind
        self.body = body
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// A question's link to an incident.
public struct IncidentLink: Sendable, Equatable {
    public var questionId: String
    public var incidentId: String
    public var kind: IncidentLinkKind
    public var linkedBy: String?
    public var linkedAt: Date

    /// Creates a link.
    public init(questionId: String, incidentId: String, kind: IncidentLinkKind, linkedBy: String?, linkedAt: Date) {
        self.questionId = questionId
        self.incidentId = incidentId
        self.kind = kind
        self.linkedBy = linkedBy
        self.linkedAt = linkedAt
    }
}

/// An incident as listed: its row, and what its links and updates say now.
public struct IncidentSummary: Sendable, Equatable {
    public var incident: Incident
    public var questionCount: Int
    /// Linked questions not resolved yet.
    public var openQuestions: Int
    /// Linked questions by topic and by language.
    public var topics: [String: Int]
    public var languages: [String: Int]
    /// When its first and latest questions were asked.
    public var firstSeenAt: Date?
    public var lastSeenAt: Date?
    /// The first few linked questions' ids.
    public var sampleQuestionIds: [String]
    public var latestUpdate: IncidentUpdate?

    /// Creates a summary.
    public init(
        incident: Incident, questionCount: Int, openQuestions: Int, topics: [String: Int], languages: [String: Int],
        firstSeenAt: Date?, lastSeenAt: Date?, sampleQuestionIds: [String], latestUpdate: IncidentUpdate?
    ) {
        self.incident = incident
        self.questionCount = questionCount
        self.openQuestions = openQuestions
        self.topics = topics
        self.languages = languages
        self.firstSeenAt = firstSeenAt
        self.lastSeenAt = lastSeenAt
        self.sampleQuestionIds = sampleQuestionIds
        self.latestUpdate = latestUpdate
    }
}

/// What a volunteer sees of the incident a question belongs to.
public struct IncidentBrief: Sendable, Equatable {
    public var id: String
    public var title: String
    public var state: IncidentState
    public var latestUpdate: IncidentUpdate?

    /// Creates a brief.
    public init(id: String, title: String, state: IncidentState, latestUpdate: IncidentUpdate?) {
        self.id = id
        self.title = title
        self.state = state
        self.latestUpdate = latestUpdate
    }
}

/// A linked question as an incident lists it.
public struct IncidentQuestion: Sendable, Equatable {
    public var question: Question
    public var link: IncidentLink

    /// Creates an entry.
    public init(question: Question, link: IncidentLink) {
        self.question = question
        self.link = link
    }
}

/// What an incident command needs, loaded under the incident's lock (and, for commands that change them, the linked
/// questions' locks).
public struct IncidentSnapshot: Sendable, Equatable {
    public var incident: Incident
    public var latestUpdate: IncidentUpdate?
    /// The linked questions, when the command changes them.
    public var questions: [QuestionSnapshot]
    /// The anchor question, for the incident's own events.
    public var anchor: Question?
    /// The other incident of a merge, and its linked questions' count.
    public var other: Incident?
    /// The question a link or unlink names, with its current link.
    public var target: QuestionSnapshot?
    public var targetLink: IncidentLink?

    /// Creates a snapshot.
    public init(
        incident: Incident, latestUpdate: IncidentUpdate? = nil, questions: [QuestionSnapshot] = [],
        anchor: Question? = nil, other: Incident? = nil, target: QuestionSnapshot? = nil,
        targetLink: IncidentLink? = nil
    ) {
        self.incident = incident
        self.latestUpdate = latestUpdate
        self.questions = questions
        self.anchor = anchor
        self.other = other
        self.target = target
        self.targetLink = targetLink
    }
}

/// What an incident command loads.
public struct IncidentNeeds: Sendable, Equatable {
    /// The linked questions (locked), with what their commands need.
    public var questions: SnapshotNeeds?
    /// Another incident (a merge's source).
    public var other: String?
    /// A question to link or unlink.
    public var target: String?

    /// Creates needs.
    public init(questions: SnapshotNeeds? = nil, other: String? = nil, target: String? = nil) {
        self.questions = questions
        self.other = other
        self.target = target
    }
}

/// Everything an incident command changes: the incident's row (and a merged one's), its new update, moved links, and
/// the changes of its questions, applied in one transaction.
public struct IncidentChange: Sendable, Equatable {
    public var incident: Incident
    public var other: Incident?
    public var update: IncidentUpdate?
    /// Moves every link of the other incident to this one.
    public var moveLinks: Bool
    public var questions: [QuestionChange]

    /// Starts a change that changes nothing.
    public init(incident: Incident) {
        self.incident = incident
        self.other = nil
        self.update = nil
        self.moveLinks = false
        self.questions = []
    }
}

/// Where a page of incidents starts: after the incident opened at `openedAt` with `id` (newest first).
public struct IncidentCursor: Sendable, Equatable {
    public var openedAt: Int64
    public var id: String

    /// The cursor of a listed incident.
    public init(of incident: Incident) {
        openedAt = incident.openedAt.millisecondsSince1970
        id = incident.id
    }

    /// Reads a cursor a page gave; nil for none, `invalid_cursor` for text no page gave.
    public init?(_ text: String?) throws {
        guard let text else { return nil }
        let parts = text.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let openedAt = Int64(parts[0]), !parts[1].isEmpty else {
            throw PatenError.malformed("invalid_cursor", "The cursor is not one a page of incidents gave; pass `next` as it came.")
        }
        self.openedAt = openedAt
        self.id = String(parts[1])
    }

    /// The cursor as a page gives it.
    public var text: String { "\(openedAt).\(id)" }
}
