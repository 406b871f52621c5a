import Foundation

/// What intake concluded about a new question.
public struct Classification: Sendable, Equatable {
    public var topic: String
    public var language: String
    public var priority: Priority

    /// Creates a classification.
    public init(topic: String, language: String, priority: Priority) {
        self.topic = topic
        self.language = language
        self.priority = priority
    }
}

/// Where intake sends a question, and why.
public struct RoutingDecision: Sendable, Equatable {
    /// Why the question goes where it goes.
    public enum Reason: String, Sendable {
        case staffOnlyTopic = "staff_only_topic"
        case criticalPriority = "critical_priority"
        case peerPool = "peer_pool"
    }

    public var tier: Tier
    public var reason: Reason
    /// For the volunteer tier: when volunteers' first-response window closes.
    public var peerDeadline: Date?

    /// Creates a decision.
    public init(tier: Tier, reason: Reason, peerDeadline: Date?) {
        self.tier = tier
        self.reason = reason
        self.peerDeadline = peerDeadline
    }
}

/// Classifies and routes new questions by the policy. Pure: no I/O, no clock of its own.
public struct IntakeClassifier: Sendable {
    public let policy: Policy
    /// Each topic's keywords and the critical keywords, folded once here rather than on every question.
    private let topicKeywords: [(topic: String, keywords: [KeywordText.Needle])]
    private let criticalKeywords: [KeywordText.Needle]

    /// Creates a classifier for the policy.
    public init(policy: Policy) {
        self.policy = policy
        topicKeywords = policy.topics.map { ($0.name, $0.keywords.map(KeywordText.Needle.init)) }
        criticalKeywords = policy.criticalKeywords.map(KeywordText.Needle.init)
    }

    /// Classifies a question from its text and what the submitter stated.
    ///
    /// A stated topic, language or priority is used as given once validated; without one the topic is the one
    /// whose keywords occur most often (ties go to the earlier topic), the language is the policy default,
    /// and the priority is normal. A critical keyword makes the question critical whatever was stated,
    /// because a customer reporting fraud must not wait in a low-priority queue.
    public func classify(
        subject: String, body: String, topic: String?, language: String?, priority: String?
    ) throws
        -> Classification
    {
        let text = KeywordText(subject + "\n" + body)
        let chosenTopic: String
        if let topic {
            guard policy.hasTopic(topic) else {
                throw PatenError.unprocessable(
                    "unknown_topic",
                    "Topic '\(topic)' is not in the policy; use one of: \(policy.topics.map(\.name).joined(separator: ", "))."
                )
            }
            chosenTopic = topic
        } else {
            chosenTopic = bestTopic(in: text)
        }
        let chosenLanguage = language ?? policy.defaultLanguage
        guard policy.languages.contains(chosenLanguage) else {
            throw PatenError.unprocessable(
                "unknown_language",
                "Language '\(chosenLanguage)' is not supported; use one of: \(policy.languages.joined(separator: ", "))."
            )
        }
        var chosenPriority = Priority.normal
        if let priority {
            guard let stated = Priority(rawValue: priority) else {
                throw PatenError.unprocessable(
                    "invalid_priority",
                    "Priority '\(priority)' is not valid; use low, normal, high or critical."
                )
            }
            chosenPriority = stated
        }
        if criticalKeywords.contains(where: text.contains) {
            chosenPriority = .critical
        }
        return Classification(topic: chosenTopic, language: chosenLanguage, priority: chosenPriority)
    }

    /// Routes a classified question: staff-only topics and critical priority go to staff, the rest to volunteers.
    public func route(_ classification: Classification, at now: Date) -> RoutingDecision {
        if policy.staffOnlyTopics.contains(classification.topic) {
            return RoutingDecision(tier: .staff, reason: .staffOnlyTopic, peerDeadline: nil)
        }
        if classification.priority == .critical {
            return RoutingDecision(tier: .staff, reason: .criticalPriority, peerDeadline: nil)
        }
        let window = policy.peerWindow[classification.priority] ?? 0
        return RoutingDecision(tier: .volunteer, reason: .peerPool, peerDeadline: now.addingTimeInterval(window))
    }

    private func bestTopic(in text: KeywordText) -> String {
        var best = policy.defaultTopic
        var bestCount = 0
        for (topic, keywords) in topicKeywords {
            let count = keywords.filter(text.contains).count
            if count > bestCount {
                best = topic
                bestCount = count
            }
        }
        return best
    }
}
