import Foundation

/// Someone who answers questions, or a machine client that submits them.
public struct Helper: Sendable, Equatable {
    /// Opaque id.
    public var id: String
    /// Unique login-style name, lowercase.
    public var handle: String
    /// Name shown to people.
    public var displayName: String
    /// What the account may do.
    public var role: Role
    /// Topics the helper knows well.
    public var skills: [String]
    /// Languages the helper answers in.
    public var languages: [String]
    /// Most questions the helper may hold at once.
    public var capacity: Int
    /// Whether the helper is around.
    public var presence: Presence
    /// Deactivated accounts cannot authenticate.
    public var active: Bool
    /// When the account was made.
    public var createdAt: Date
    /// When the account last changed.
    public var updatedAt: Date

    /// Creates a helper value.
    public init(
        id: String, handle: String, displayName: String, role: Role, skills: [String], languages: [String],
        capacity: Int, presence: Presence, active: Bool, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.handle = handle
        self.displayName = displayName
        self.role = role
        self.skills = skills
        self.languages = languages
        self.capacity = capacity
        self.presence = presence
        self.active = active
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The fields needed to make a helper.
public struct NewHelper: Sendable, Equatable {
    public var handle: String
    public var displayName: String?
    public var role: Role
    public var skills: [String]
    public var languages: [String]
    public var capacity: Int?

    /// Creates a helper draft; missing values are filled from the policy.
    public init(
        handle: String, displayName: String? = nil, role: Role, skills: [String] = [], languages: [String] = [],
        capacity: Int? = nil
    ) {
        self.handle = handle
        self.displayName = displayName
        self.role = role
        self.skills = skills
        self.languages = languages
        self.capacity = capacity
    }
}

/// A partial change to a helper; nil leaves a field as it is.
public struct HelperChange: Sendable, Equatable {
    public var displayName: String?
    public var role: Role?
    public var skills: [String]?
    public var languages: [String]?
    public var capacity: Int?
    public var presence: Presence?
    public var active: Bool?

    /// Creates a change.
    public init(
        displayName: String? = nil, role: Role? = nil, skills: [String]? = nil, languages: [String]? = nil,
        capacity: Int? = nil, presence: Presence? = nil, active: Bool? = nil
    ) {
        self.displayName = displayName
        self.role = role
        self.skills = skills
        self.languages = languages
        self.capacity = capacity
        self.presence = presence
        self.active = active
    }

    /// Whether the change changes nothing.
    public var isEmpty: Bool {
        displayName == nil && role == nil && skills == nil && languages == nil && capacity == nil
            && presence == nil && active == nil
    }
}

/// A bearer token's stored facts; the token itself is never stored.
public struct AccessToken: Sendable, Equatable {
    public var id: String
    public var helperId: String
    public var label: String
    /// The first characters of the token, so people can tell tokens apart.
    public var prefix: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    /// Creates a token record.
    public init(
        id: String, helperId: String, label: String, prefix: String, createdAt: Date, lastUsedAt: Date?,
        revokedAt: Date?
    ) {
        self.id = id
        self.helperId = helperId
        self.label = label
        self.prefix = prefix
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}

/// A token just issued: the only moment its secret text exists outside the caller's hands.
public struct IssuedToken: Sendable, Equatable {
    /// The stored facts.
    public var record: AccessToken
    /// The bearer secret, shown once.
    public var secret: String

    /// Creates an issued token.
    public init(record: AccessToken, secret: String) {
        self.record = record
        self.secret = secret
    }
}
