import Foundation

/// Helper accounts and their tokens: creation, changes, presence, issuing, listing, revoking and authenticating.
public struct HelperDirectory: Sendable {
    /// The handle of the admin account created on an empty database.
    public static let bootstrapHandle = "admin"

    public let policy: Policy
    private let helpers: any HelperRepository
    private let tokens: any TokenRepository
    private let hasher: any SecretHasher
    private let clock: any Clock
    private let ids: any IdentifierGenerator

    /// Creates the directory over its repositories.
    public init(
        policy: Policy, helpers: any HelperRepository, tokens: any TokenRepository, hasher: any SecretHasher,
        clock: any Clock, ids: any IdentifierGenerator
    ) {
        self.policy = policy
        self.helpers = helpers
        self.tokens = tokens
        self.hasher = hasher
        self.clock = clock
        self.ids = ids
    }

    /// Makes a helper account after validating every field.
    public func create(_ draft: NewHelper) async throws -> Helper {
        let helper = try makeHelper(draft)
        try await helpers.insertHelper(helper)
        return helper
    }

    /// A new account from the draft, every field validated, not stored yet.
    public func makeHelper(_ draft: NewHelper) throws -> Helper {
        let handle = draft.handle.lowercased()
        try SupportDesk.require(
            handle.range(of: #"\A[a-z0-9][a-z0-9_.\-]{1,31}\z"#, options: .regularExpression) != nil, "invalid_handle",
            "Handle '\(draft.handle)' is not valid: use 2 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit."
        )
        try validate(skills: draft.skills, languages: draft.languages)
        let capacity = draft.capacity ?? policy.capacity(for: draft.role)
        try validate(capacity: capacity, role: draft.role)
        let displayName = draft.displayName?.trimmingCharacters(in: .whitespaces) ?? handle
        try SupportDesk.require(
            !displayName.isEmpty && (draft.displayName ?? handle).unicodeScalars.count <= 100, "invalid_display_name",
            "display_name must be 1 to 100 characters."
        )
        let now = clock.now()
        let helper = Helper(
            id: ids.make(draft.role == .integration ? "int" : "h"), handle: handle, displayName: displayName,
            role: draft.role, skills: draft.skills, languages: draft.languages, capacity: capacity,
            presence: draft.role == .integration ? .offline : .available, active: true, createdAt: now, updatedAt: now
        )
        return helper
    }

    /// The helper with the id or handle.
    public func helper(_ idOrHandle: String) async throws -> Helper {
        if let helper = try await helpers.helper(id: idOrHandle) { return helper }
        if let helper = try await helpers.helper(handle: idOrHandle.lowercased()) { return helper }
        throw PatenError.notFound("helper", id: idOrHandle)
    }

    /// Every helper, optionally of one role.
    public func list(role: Role? = nil) async throws -> [Helper] {
        try await helpers.helpers(role: role)
    }

    /// Changes a helper's fields after validating them.
    public func update(_ idOrHandle: String, _ change: HelperChange) async throws -> Helper {
        let current = try await helper(idOrHandle)
        try SupportDesk.require(
            !change.isEmpty, "empty_change", "Name at least one field to change; fields the API does not know are ignored."
        )
        try Self.requireSameKind(current, change)
        try Self.requireSettable(change.presence)
        try validate(skills: change.skills ?? [], languages: change.languages ?? [])
        try validate(capacity: change.capacity ?? current.capacity, role: change.role ?? current.role)
        if let name = change.displayName {
            try SupportDesk.require(
                !name.trimmingCharacters(in: .whitespaces).isEmpty && name.unicodeScalars.count <= 100, "invalid_display_name",
                "display_name must be 1 to 100 characters."
            )
        }
        // The last-admin rule (`requireAdminRemains`) is checked by the store inside its write, where two admins
        // demoting each other at the same instant cannot both pass.
        return try await helpers.updateHelper(id: current.id, change: change, at: clock.now())
    }

    /// Refuses a role change across the integration boundary: a machine account never becomes a person's
    /// account (and so never an admin), nor a person's account a machine's.
    static func requireSameKind(_ current: Helper, _ change: HelperChange) throws {
        guard let role = change.role, (role == .integration) != (current.role == .integration) else { return }
        throw PatenError.unprocessable(
            "role_change_not_allowed",
            current.role == .integration
                ? "'\(current.handle)' is an integration account and cannot become \(role.rawValue); create a new account "
                    + "with POST /v1/helpers instead."
                : "'\(current.handle)' is a \(current.role.rawValue) and cannot become an integration account; create a new "
                    + "account with role integration (POST /v1/helpers) or an integration (POST /v1/integrations) instead."
        )
    }

    /// Refuses a change that would leave no active admin. Stores call it inside their write transaction, with the
    /// account as stored and the number of other active admins read under the same lock.
    public static func requireAdminRemains(_ current: Helper, _ change: HelperChange, otherActiveAdmins: Int) throws {
        let staysAdmin = (change.role ?? current.role) == .admin && (change.active ?? current.active)
        guard current.role == .admin, current.active, !staysAdmin else { return }
        try SupportDesk.require(
            otherActiveAdmins > 0, "last_admin",
            "'\(current.handle)' is the only active admin; make another account admin before demoting or deactivating it.",
            kind: .conflict
        )
    }

    /// Sets a helper's own presence.
    public func setPresence(_ presence: Presence, for helper: Helper) async throws -> Helper {
        try Self.requireSettable(presence)
        return try await helpers.updateHelper(id: helper.id, change: HelperChange(presence: presence), at: clock.now())
    }

    /// `paused` is the programme's to set (after low ratings) and staff's to lift (`POST /v1/helpers/{id}/resume`).
    static func requireSettable(_ presence: Presence?) throws {
        try SupportDesk.require(
            presence != .paused, "invalid_presence",
            "presence 'paused' is set by the programme after low ratings; staff lift it with POST /v1/helpers/{id}/resume."
        )
    }

    /// Issues a new token for the helper; the secret is in the result and nowhere else.
    public func issueToken(for idOrHandle: String, label: String? = nil) async throws -> IssuedToken {
        let owner = try await helper(idOrHandle)
        let name = (label ?? "").trimmingCharacters(in: .whitespaces)
        try SupportDesk.require(
            (label ?? "").unicodeScalars.count <= 100, "invalid_label", "The token label must be at most 100 characters."
        )
        let secret = Self.makeSecret()
        let record = AccessToken(
            id: ids.make("tok"), helperId: owner.id, label: name.isEmpty ? "default" : name,
            prefix: String(secret.prefix(12)), createdAt: clock.now(), lastUsedAt: nil, revokedAt: nil
        )
        try await tokens.insertToken(record, secretHash: hasher.hash(secret))
        return IssuedToken(record: record, secret: secret)
    }

    /// Tokens the viewer may see: every token for admins, their own for everyone else.
    public func tokens(visibleTo viewer: Helper, helperId: String? = nil) async throws -> [AccessToken] {
        if viewer.role == .admin { return try await allTokens(helperId: helperId) }
        if let helperId, helperId != viewer.id {
            throw PatenError.forbidden("admin_only", "Only admins can list other helpers' tokens.")
        }
        return try await tokens.tokens(helperId: viewer.id)
    }

    /// Every token, or one helper's, as the server's operator (the CLI on the data directory) sees them.
    public func allTokens(helperId: String? = nil) async throws -> [AccessToken] {
        try await tokens.tokens(helperId: helperId)
    }

    /// Revokes a token: admins any, everyone else their own.
    public func revokeToken(_ id: String, by actor: Helper) async throws -> AccessToken {
        guard let token = try await tokens.token(id: id), actor.role == .admin || token.helperId == actor.id else {
            throw PatenError.notFound("token", id: id)
        }
        if token.revokedAt != nil {
            throw PatenError.conflict("token_revoked", "Token \(id) is already revoked.")
        }
        return try await tokens.revokeToken(id: id, at: clock.now())
    }

    /// Revokes a token as the server's operator (the CLI on the data directory).
    public func revokeToken(_ id: String) async throws -> AccessToken {
        guard try await tokens.token(id: id) != nil else { throw PatenError.notFound("token", id: id) }
        return try await tokens.revokeToken(id: id, at: clock.now())
    }

    /// The account a bearer secret belongs to; nil for an unknown, revoked or deactivated one.
    public func authenticate(secret: String) async throws -> Helper? {
        guard secret.hasPrefix("pat_"), secret.count < 200 else { return nil }
        return try await tokens.authenticate(secretHash: hasher.hash(secret), at: clock.now())?.helper
    }

    /// On an empty database, creates the `admin` account and returns its first token; otherwise nil.
    public func bootstrapAdminIfEmpty() async throws -> IssuedToken? {
        guard try await helpers.helperCount() == 0 else { return nil }
        do {
            _ = try await create(NewHelper(handle: Self.bootstrapHandle, displayName: "Administrator", role: .admin))
        } catch let error as PatenError where error.code == "handle_taken" {
            // Another instance starting on the same database made it first, and printed its token.
            return nil
        }
        return try await issueToken(for: Self.bootstrapHandle, label: "bootstrap")
    }

    private func validate(skills: [String], languages: [String]) throws {
        for skill in skills where !policy.hasTopic(skill) {
            throw PatenError.unprocessable(
                "unknown_topic",
                "Skill '\(skill)' is not a topic in the policy; use one of: \(policy.topics.map(\.name).joined(separator: ", "))."
            )
        }
        for language in languages where !policy.languages.contains(language) {
            throw PatenError.unprocessable(
                "unknown_language",
                "Language '\(language)' is not supported; use one of: \(policy.languages.joined(separator: ", "))."
            )
        }
    }

    private func validate(capacity: Int, role: Role) throws {
        try SupportDesk.require(
            (role == .integration ? 0...1000 : 1...1000).contains(capacity),
            "invalid_capacity", "capacity must be a whole number from 1 to 1000 (0 to 1000 for integrations)."
        )
    }

    /// `pat_` and 32 random bytes in URL-safe base64: 256 bits from the system's secure generator.
    static func makeSecret() -> String {
        "pat_" + randomText(bytes: 32)
    }

    /// Random bytes from the system's secure generator.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Random bytes from the system's secure generator, in URL-safe base64 without padding.
    static func randomText(bytes count: Int) -> String {
        Data(randomBytes(count)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
