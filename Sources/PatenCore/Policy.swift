import Foundation

/// The routing policy: how intake classifies and routes questions, and how long claims last.
public struct Policy: Sendable, Equatable {
    /// A topic and the words that signal it.
    public struct Topic: Sendable, Equatable {
        public var name: String
        /// Words or phrases; any of them in a question suggests the topic.
        public var keywords: Keywords

        /// Creates a topic.
        public init(name: String, keywords: Keywords) {
            self.name = name
            self.keywords = keywords
        }
    }

    /// Keywords written per language, or for every language (a plain list, the policy's older form).
    ///
    /// A keyword is a word or a phrase of words; a word ending in `*` matches every word that starts with it
    /// ("abbuch*" matches "Abbuchung" and "abbuchen"), one starting with `*` every word that ends with it
    /// ("*rechnung" matches "Monatsrechnung"), and one with both every word that contains it ("*betrug*" matches
    /// "Kreditkartenbetrugs"). Case, diacritics and the German spellings ä/ae, ö/oe, ü/ue and ß/ss are folded. Every keyword is looked for in every question, whatever its stated language: the
    /// language only says where the keyword was written down.
    public struct Keywords: Sendable, Equatable, ExpressibleByArrayLiteral {
        /// Keywords that belong to no one language.
        public var everyLanguage: [String]
        /// Keywords by the language code they are written in.
        public var byLanguage: [String: [String]]

        /// Creates keywords.
        public init(everyLanguage: [String] = [], byLanguage: [String: [String]] = [:]) {
            self.everyLanguage = everyLanguage
            self.byLanguage = byLanguage
        }

        /// Keywords for every language, as in a plain list.
        public init(arrayLiteral elements: String...) {
            self.init(everyLanguage: elements)
        }

        /// Every keyword, those for every language first, then by language code.
        public var all: [String] {
            everyLanguage + byLanguage.keys.sorted().flatMap { byLanguage[$0] ?? [] }
        }
    }

    /// Topics in order of preference when keyword counts tie.
    public var topics: [Topic]
    /// The topic for questions that match no keyword.
    public var defaultTopic: String
    /// Topics volunteers must not handle.
    public var staffOnlyTopics: Set<String>
    /// Words or phrases that make a question critical.
    public var criticalKeywords: Keywords
    /// Languages questions may be in.
    public var languages: [String]
    /// The language of a question that names none.
    public var defaultLanguage: String
    /// How long volunteers have for a first response, per priority, in seconds.
    public var peerWindow: [Priority: TimeInterval]
    /// How long a claim lasts without activity, in seconds.
    public var claimLease: TimeInterval
    /// Claim capacity given to new helpers that name none, per role.
    public var defaultCapacity: [Role: Int]
    /// Staff targets per priority, in seconds of the business calendar.
    public var staffTargets: [StaffTarget: [Priority: TimeInterval]]
    /// The share of a target after which a warning is raised (0.8 = at 80 %).
    public var warningThreshold: Double
    /// Staff opening hours; staff targets count only open time. Volunteer windows run on calendar time.
    public var businessHours: BusinessCalendar
    /// The volunteer programme: points, levels, badges, topic unlocks, protection and payouts.
    public var programme: Programme
    /// Similar questions, surges and incidents.
    public var surge: SurgePolicy
    /// How long customers' words are kept (docs/privacy.md).
    public var retention: RetentionPolicy

    /// Creates a policy; use `PolicyLoader` to read and validate one from a file.
    public init(
        topics: [Topic], defaultTopic: String, staffOnlyTopics: Set<String>, criticalKeywords: Keywords,
        languages: [String], defaultLanguage: String, peerWindow: [Priority: TimeInterval], claimLease: TimeInterval,
        defaultCapacity: [Role: Int], staffTargets: [StaffTarget: [Priority: TimeInterval]] = [:],
        warningThreshold: Double = 0.8, businessHours: BusinessCalendar = .alwaysOpen,
        programme: Programme = .standard, surge: SurgePolicy = .standard, retention: RetentionPolicy = .standard
    ) {
        self.programme = programme
        self.surge = surge
        self.retention = retention
        self.topics = topics
        self.defaultTopic = defaultTopic
        self.staffOnlyTopics = staffOnlyTopics
        self.criticalKeywords = criticalKeywords
        self.languages = languages
        self.defaultLanguage = defaultLanguage
        self.peerWindow = peerWindow
        self.claimLease = claimLease
        self.defaultCapacity = defaultCapacity
        self.staffTargets = staffTargets
        self.warningThreshold = warningThreshold
        self.businessHours = businessHours
    }

    /// Whether the named topic exists.
    public func hasTopic(_ name: String) -> Bool { topics.contains { $0.name == name } }

    /// The length of a staff target for a priority, in business seconds; nil when the policy sets none.
    public func target(_ target: StaffTarget, for priority: Priority) -> TimeInterval? {
        staffTargets[target]?[priority]
    }

    /// The capacity for a new helper of the role.
    public func capacity(for role: Role) -> Int { defaultCapacity[role] ?? 0 }
}

/// The response-time targets that apply once a question is with staff.
public enum StaffTarget: String, Sendable, CaseIterable {
    /// The first helper reply after the question reached staff (or was submitted to staff).
    case firstResponse = "first_response"
    /// A helper reply after each customer message.
    case nextResponse = "next_response"
    /// Resolution after the question reached staff.
    case resolution
}
