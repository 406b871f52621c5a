import Foundation

/// The policy's `surge` section: when similar questions are one group, and when a group is a surge.
public struct SurgePolicy: Sendable, Equatable {
    /// Whether questions get signatures and surges open incidents at all.
    public var enabled: Bool
    /// Fewest questions of one group within `window` that can be a surge.
    public var minQuestions: Int
    /// The window a surge is counted in.
    public var window: TimeInterval
    /// Least Jaccard index of two questions' terms for them to be similar (to join a group or an incident).
    public var similarity: Double
    /// How far back a new question looks for similar ones (its group).
    public var horizon: TimeInterval
    /// How many past weeks give the expected count of a window (the same hour of the week).
    public var baselineWeeks: Int
    /// Most probable count, under the expectation, that is still a surge (the Poisson tail).
    public var maxProbability: Double
    /// Words to leave out besides the built-in stop words, by language.
    public var stopWords: [String: [String]]
    /// How long a solved question's signature is kept, so it can be offered as a similar answer.
    public var keepSolved: TimeInterval
    /// Least Jaccard index of a similar solved question.
    public var similarMinimum: Double

    /// Creates a surge policy.
    public init(
        enabled: Bool, minQuestions: Int, window: TimeInterval, similarity: Double, horizon: TimeInterval,
        baselineWeeks: Int, maxProbability: Double, stopWords: [String: [String]], keepSolved: TimeInterval,
        similarMinimum: Double
    ) {
        self.enabled = enabled
        self.minQuestions = minQuestions
        self.window = window
        self.similarity = similarity
        self.horizon = horizon
        self.baselineWeeks = baselineWeeks
        self.maxProbability = maxProbability
        self.stopWords = stopWords
        self.keepSolved = keepSolved
        self.similarMinimum = similarMinimum
    }

    /// The defaults (docs/incidents.md says where they come from).
    public static let standard = SurgePolicy(
        enabled: true, minQuestions: 5, window: 15 * 60, similarity: 0.25, horizon: 6 * 3600, baselineWeeks: 4,
        maxProbability: 1e-4, stopWords: [:], keepSolved: 365 * 86400, similarMinimum: 0.2
    )

    /// How long any signature is kept: the baseline's weeks, a day more, and the horizon.
    public var retention: TimeInterval { Double(baselineWeeks) * 7 * 86400 + 86400 + horizon }
}

/// A stored signature that shares a band with a new question's.
public struct SignatureMatch: Sendable, Equatable {
    public var questionId: String
    public var createdAt: Date
    /// The group it joined at intake (the id of the group's first question).
    public var groupId: String
    public var terms: [String]
    /// The open incident it is linked to.
    public var incidentId: String?

    /// Creates a match.
    public init(questionId: String, createdAt: Date, groupId: String, terms: [String], incidentId: String? = nil) {
        self.questionId = questionId
        self.createdAt = createdAt
        self.groupId = groupId
        self.terms = terms
        self.incidentId = incidentId
    }
}

/// A question of a group, with what opening an incident over it needs.
public struct GroupMember: Sendable, Equatable {
    public var question: Question
    public var terms: [String]
    public var bands: [Int64]
    /// The incident it is linked to (any state), and whether that incident is open.
    public var incidentId: String?
    public var incidentOpen: Bool

    /// Creates a member.
    public init(question: Question, terms: [String], bands: [Int64], incidentId: String? = nil, incidentOpen: Bool = false) {
        self.question = question
        self.terms = terms
        self.bands = bands
        self.incidentId = incidentId
        self.incidentOpen = incidentOpen
    }
}

/// An open incident a new question joins, with the latest update it is sent.
public struct IncidentJoin: Sendable, Equatable {
    public var incident: Incident
    /// The latest update and its author, if staff posted one.
    public var latestUpdate: IncidentUpdate?
    public var author: Helper?

    /// Creates a join.
    public init(incident: Incident, latestUpdate: IncidentUpdate? = nil, author: Helper? = nil) {
        self.incident = incident
        self.latestUpdate = latestUpdate
        self.author = author
    }
}

/// What intake needs to know about similar questions, loaded by the store in the intake's transaction.
public struct SurgeSnapshot: Sendable, Equatable {
    /// Stored signatures of the horizon sharing a band with the new question's.
    public var recent: [SignatureMatch]
    /// The group's questions: those of the window, or (once a surge is decided) of the horizon.
    public var members: [GroupMember]
    /// How many questions of the group the window holds, the new one left out.
    public var groupCount: Int
    /// For each past week, the signatures of its window sharing a band with the group's.
    public var baseline: [[SignatureMatch]]
    /// The open incident the question joins.
    public var join: IncidentJoin?

    /// Creates a snapshot; empty by default (nothing similar).
    public init(
        recent: [SignatureMatch] = [], members: [GroupMember] = [], groupCount: Int = 0,
        baseline: [[SignatureMatch]] = [], join: IncidentJoin? = nil
    ) {
        self.recent = recent
        self.members = members
        self.groupCount = groupCount
        self.baseline = baseline
        self.join = join
    }
}

/// What a store asks intake's surge rules for.
public struct SurgeNeeds: Sendable, Equatable {
    public var signature: SimilaritySignature
    public var policy: SurgePolicy
    public var now: Date
    /// Who asks (`SurgeRules.asker`): a surge counts customers, not questions.
    public var asker: String

    /// Creates needs.
    public init(signature: SimilaritySignature, policy: SurgePolicy, now: Date, asker: String = "") {
        self.signature = signature
        self.policy = policy
        self.now = now
        self.asker = asker
    }

    /// Whether to look for similar questions at all.
    public var looks: Bool { policy.enabled && !signature.isEmpty }
    /// Where the horizon starts.
    public var horizonStart: Date { now.addingTimeInterval(-policy.horizon) }
    /// Where the window starts.
    public var windowStart: Date { now.addingTimeInterval(-policy.window) }
}

/// The surge rules: grouping at intake (single-pass leader clustering over MinHash candidates), and the test that a
/// group's count in the window is improbable against the same window of past weeks (a Poisson tail).
public enum SurgeRules {
    /// Most recent signatures read per band key at intake: a hot group (an outage with thousands of questions in the
    /// horizon) costs each new question at most 32 x 8 candidate rows, and the newest are the ones that tell its
    /// group and incident.
    public static let recentPerBand = 8
    /// The same bound where the store reads the newest signatures sharing any band at once (SQLite's band index).
    public static let recentLimit = 256
    /// Most signatures read per past week when counting the baseline.
    public static let baselineLimit = 2048
    /// Most questions of a group read at intake (the newest).
    public static let membersLimit = 500
    /// Most recent signatures read per band key when looking for similar solved questions (PostgreSQL).
    public static let solvedPerBand = 256
    /// The same bound where the store reads the newest signatures sharing any band at once (SQLite's band index).
    public static let solvedLimit = 2048
    /// What a store loads next once it has the horizon's matches.
    public enum Plan: Sendable, Equatable {
        /// Nothing similar: the question starts a group of its own.
        case alone
        /// A similar question is linked to this open incident: load it and join.
        case join(String)
        /// The groups of the similar questions, the most similar one's first: count them in the window as one (a
        /// band that missed, or two similar questions grouped at the same moment, splits a group; a question like
        /// both joins them again).
        case groups([String])
    }

    /// The matches at least as similar as the policy asks, most similar first (ties: newest first).
    public static func similar(_ needs: SurgeNeeds, _ matches: [SignatureMatch]) -> [(SignatureMatch, Double)] {
        matches.map { ($0, needs.signature.jaccard($0.terms)) }
            .filter { $0.1 >= needs.policy.similarity }
            .sorted {
                if $0.1 != $1.1 { return $0.1 > $1.1 }
                if $0.0.createdAt != $1.0.createdAt { return $0.0.createdAt > $1.0.createdAt }
                return $0.0.questionId > $1.0.questionId
            }
    }

    /// The next load after the horizon's matches.
    public static func plan(_ needs: SurgeNeeds, recent: [SignatureMatch]) -> Plan {
        let similar = similar(needs, recent)
        if let linked = similar.first(where: { $0.0.incidentId != nil })?.0.incidentId { return .join(linked) }
        guard !similar.isEmpty else { return .alone }
        var groups: [String] = []
        for (match, _) in similar where !groups.contains(match.groupId) { groups.append(match.groupId) }
        return .groups(groups)
    }

    /// The group the new question joins: its most similar match's, or a group of its own.
    public static func groupId(_ needs: SurgeNeeds, _ snapshot: SurgeSnapshot, questionId: String) -> String {
        similar(needs, snapshot.recent).first?.0.groupId ?? questionId
    }

    /// Whether the group, the new question counted, is large enough to be a surge.
    public static func largeEnough(_ needs: SurgeNeeds, groupCount: Int) -> Bool {
        groupCount + 1 >= needs.policy.minQuestions
    }

    /// The past weeks' windows to count the group in: the same span of the week, one to `baselineWeeks` weeks back.
    public static func baselineWindows(_ needs: SurgeNeeds) -> [DateInterval] {
        (1...max(1, needs.policy.baselineWeeks)).map { week in
            let end = needs.now.addingTimeInterval(-Double(week) * 7 * 86400)
            return DateInterval(start: end.addingTimeInterval(-needs.policy.window), end: end)
        }
    }

    /// Members whose bands also look for the group in past weeks, besides the new question.
    public static let baselineSample = 7

    /// The band keys to look for the group in past weeks: the new question's and those of the newest
    /// `baselineSample` members (at most 256 keys, however large the group: a large group is found through a few of
    /// its questions, and its cost per intake stays bounded).
    public static func baselineBands(_ needs: SurgeNeeds, members: [GroupMember]) -> [Int64] {
        let newest = members.sorted { $0.question.createdAt > $1.question.createdAt }.prefix(baselineSample)
        return Array(Set(needs.signature.bands + newest.flatMap(\.bands))).sorted()
    }

    /// The probability of at least `count` events from a Poisson process expecting `expected`: 0 when nothing is
    /// expected and something happened.
    public static func poissonTail(atLeast count: Int, expected: Double) -> Double {
        guard count > 0 else { return 1 }
        guard expected > 0 else { return 0 }
        // 1 - P(X < count), summed term by term; each term is computed in log space, so a large expectation does
        // not underflow e^-expected to zero.
        let logExpected = log(expected)
        var below = 0.0
        for k in 0..<count {
            below += exp(-expected + Double(k) * logExpected - lgamma(Double(k + 1)))
        }
        return min(1, max(0, 1 - below))
    }

    /// The verdict on a group in the window.
    public struct Verdict: Sendable, Equatable {
        /// Questions of the group in the window, the new one counted.
        public var observed: Int
        /// The mean count of the same window in the past weeks.
        public var expected: Double
        /// How probable at least `observed` is under `expected`.
        public var probability: Double
        public var isSurge: Bool
    }

    /// Who asked a question, for counting a surge: the customer of the channel.
    public static func asker(_ question: Question) -> String { question.channel + "\u{1F}" + question.customer.id }

    /// Whether the window's group is a surge: the customers who asked its questions of the window that belong to no
    /// incident yet (a surge already handled does not open a second incident), the new question's included, at least
    /// `minQuestions` of them, no more probable than `maxProbability` against the past weeks' mean count of questions
    /// like them. Customers, not questions: one customer asking the same thing five times is no surge (nor is a
    /// chat user repeating a complaint to raise an alarm).
    public static func verdict(_ needs: SurgeNeeds, members: [GroupMember], baseline: [[SignatureMatch]]) -> Verdict {
        let windowMembers = members.filter { $0.question.createdAt >= needs.windowStart && $0.incidentId == nil }
        let observed = Set(windowMembers.map { asker($0.question) } + [needs.asker]).count
        let profiles = [needs.signature.terms] + windowMembers.map(\.terms)
        let counts = baseline.map { week in
            Set(
                week.filter { match in
                    profiles.contains { SimilaritySignature.jaccard($0, match.terms) >= needs.policy.similarity }
                }.map(\.questionId)
            ).count
        }
        let expected = counts.isEmpty ? 0 : Double(counts.reduce(0, +)) / Double(counts.count)
        let probability = poissonTail(atLeast: observed, expected: expected)
        return Verdict(
            observed: observed, expected: expected, probability: probability,
            isSurge: observed >= needs.policy.minQuestions && probability <= needs.policy.maxProbability
        )
    }

    /// The terms most of the questions share, most frequent first: what the incident is about.
    public static func topTerms(_ termSets: [[String]], limit: Int = 8) -> [String] {
        var counts: [String: Int] = [:]
        for terms in termSets { for term in terms { counts[term, default: 0] += 1 } }
        let needed = max(2, (termSets.count + 1) / 2)
        return counts.filter { $0.value >= needed }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(limit).map(\.key)
    }

    /// Terms as people wrote them: each stem as the word (folded) that most often gave it in `texts`, else the stem.
    public static func spelledOut(_ terms: [String], in texts: [String]) -> [String] {
        var words: [String: [String: Int]] = [:]
        for text in texts {
            for (term, word) in SimilaritySignature.terms(inText: text) { words[term, default: [:]][word, default: 0] += 1 }
        }
        return terms.map { term in
            words[term]?.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? term
        }
    }

    /// The question whose terms are most like the others' (the highest summed similarity; ties: the first given):
    /// its subject names the incident.
    public static func medoid(_ members: [(question: Question, terms: [String])]) -> Question? {
        var best: (Question, Double)?
        for candidate in members {
            let score = members.reduce(0.0) { $0 + SimilaritySignature.jaccard(candidate.terms, $1.terms) }
            if score > (best?.1 ?? -1) + 1e-12 { best = (candidate.question, score) }
        }
        return best?.0
    }
}
