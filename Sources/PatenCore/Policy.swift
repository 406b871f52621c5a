import Foundation

/// The routing policy: how intake classifies and routes questions, and how long claims last.
public struct Policy: Sendable, Equatable {
    /// A topic and the words that signal it.
    public struct Topic: Sendable, Equatable {
        public var name: String
        /// Lowercase words or phrases; any of them in a question suggests the topic.
        public var keywords: [String]

        /// Creates a topic.
        public init(name: String, keywords: [String]) {
            self.name = name
            self.keywords = keywords
        }
    }

    /// Topics in order of preference when keyword counts tie.
    public var topics: [Topic]
    /// The topic for questions that match no keyword.
    public var defaultTopic: String
    /// Topics volunteers must not handle.
    public var staffOnlyTopics: Set<String>
    /// Words or phrases that make a question critical.
    public var criticalKeywords: [String]
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

    /// Creates a policy; use `PolicyLoader` to read and validate one from a file.
    public init(
        topics: [Topic], defaultTopic: String, staffOnlyTopics: Set<String>, criticalKeywords: [String],
        languages: [String], defaultLanguage: String, peerWindow: [Priority: TimeInterval], claimLease: TimeInterval,
        defaultCapacity: [Role: Int]
    ) {
        self.topics = topics
        self.defaultTopic = defaultTopic
        self.staffOnlyTopics = staffOnlyTopics
        self.criticalKeywords = criticalKeywords
        self.languages = languages
        self.defaultLanguage = defaultLanguage
        self.peerWindow = peerWindow
        self.claimLease = claimLease
        self.defaultCapacity = defaultCapacity
    }

    /// Whether the named topic exists.
    public func hasTopic(_ name: String) -> Bool { topics.contains { $0.name == name } }

    /// The capacity for a new helper of the role.
    public func capacity(for role: Role) -> Int { defaultCapacity[role] ?? 0 }
}
