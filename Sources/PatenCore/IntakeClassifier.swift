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
    /// Every topic's keywords and the critical keywords, folded once here rather than on every question. Groups
    /// `0..<topics.count` are the topics in policy order; the last group is the critical keywords.
    private let keywords: KeywordIndex
    private let staffOnly: [Bool]

    /// Creates a classifier for the policy. A keyword that does not parse (only possible in a policy built in code;
    /// `PolicyLoader` refuses it in a file) is left out.
    public init(policy: Policy) {
        self.policy = policy
        var patterns: [(pattern: KeywordPattern, group: Int)] = []
        for (group, keywords) in (policy.topics.map(\.keywords) + [policy.criticalKeywords]).enumerated() {
            for keyword in keywords.all {
                if let pattern = try? KeywordPattern(keyword) { patterns.append((pattern, group)) }
            }
        }
        keywords = KeywordIndex(patterns, groupCount: policy.topics.count + 1)
        staffOnly = policy.topics.map { policy.staffOnlyTopics.contains($0.name) }
    }

    /// Classifies a question from its text and what the submitter stated.
    ///
    /// Keywords of every language are looked for, whatever language was stated. A keyword of a staff-only topic
    /// makes that the topic (the staff-only topic with most keywords found), whatever topic was stated or matched
    /// more often: a submitter's topic cannot send a billing or fraud question to volunteers. Otherwise a stated
    /// topic is used as given once validated, else the topic whose keywords occur most often (ties go to the
    /// earlier topic). The language is as stated, else the policy default; the priority as stated, else normal.
    /// A critical keyword makes the question critical whatever was stated, because a customer reporting fraud
    /// must not wait in a low-priority queue.
    public func classify(
        subject: String, body: String, topic: String?, language: String?, priority: String?
    ) throws
        -> Classification
    {
        let counts = keywords.counts(in: KeywordText(subject + "\n" + body))
        let staffTopic = bestTopic(counts, where: { staffOnly[$0] })
        let chosenTopic: String
        if let topic {
            guard policy.hasTopic(topic) else {
                throw PatenError.unprocessable(
                    "unknown_topic",
                    "Topic '\(topic)' is not in the policy; use one of: \(policy.topics.map(\.name).joined(separator: ", "))."
                )
            }
            chosenTopic = policy.staffOnlyTopics.contains(topic) ? topic : staffTopic ?? topic
        } else {
            chosenTopic = staffTopic ?? bestTopic(counts, where: { _ in true }) ?? policy.defaultTopic
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
        if counts[policy.topics.count] > 0 {
            chosenPriority = .critical
        }
        return Classification(topic: chosenTopic, language: chosenLanguage, priority: chosenPriority)
    }

    /// Routes a classified question: critical priority and staff-only topics go to staff, the rest to volunteers.
    public func route(_ classification: Classification, at now: Date) -> RoutingDecision {
        if classification.priority == .critical {
            return RoutingDecision(tier: .staff, reason: .criticalPriority, peerDeadline: nil)
        }
        if policy.staffOnlyTopics.contains(classification.topic) {
            return RoutingDecision(tier: .staff, reason: .staffOnlyTopic, peerDeadline: nil)
        }
        let window = policy.peerWindow[classification.priority] ?? 0
        return RoutingDecision(tier: .volunteer, reason: .peerPool, peerDeadline: now.addingTimeInterval(window))
    }

    /// The topic with most keywords found among those the filter admits (ties go to the earlier topic); nil when
    /// none of them has any.
    private func bestTopic(_ counts: [Int], where admitted: (Int) -> Bool) -> String? {
        var best: Int?
        for index in policy.topics.indices where admitted(index) && counts[index] > (best.map { counts[$0] } ?? 0) {
            best = index
        }
        return best.map { policy.topics[$0].name }
    }
}
