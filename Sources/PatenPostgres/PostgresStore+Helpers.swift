import Foundation
import PatenCore
import PostgresNIO

extension PostgresStore: HelperRepository {
    public func insertHelper(_ helper: Helper) async throws {
        do {
            try await client.query(Self.insertion(helper), logger: logger)
        } catch let error as PSQLError where error.isUniqueViolation {
            throw PatenError.conflict("handle_taken", "The handle '\(helper.handle)' is taken; choose another.")
        }
    }

    /// The statement that stores an account.
    static func insertion(_ helper: Helper) -> PostgresQuery {
        """
        INSERT INTO helpers (id, handle, display_name, role, skills, languages, capacity, presence, active,
        created_at, updated_at)
        VALUES (\(helper.id), \(helper.handle), \(helper.displayName), \(helper.role.rawValue),
        \(jsonList(helper.skills)), \(jsonList(helper.languages)), \(helper.capacity), \(helper.presence.rawValue),
        \(helper.active), \(helper.createdAt.millisecondsSince1970), \(helper.updatedAt.millisecondsSince1970))
        """
    }

    public func helper(id: String) async throws -> Helper? {
        try await client.query(
            PostgresQuery(unsafeSQL: "SELECT \(Helper.pgColumns) FROM helpers WHERE id = $1", binds: binds(id)),
            logger: logger
        ).first(Helper.init(pg:))
    }

    public func helper(handle: String) async throws -> Helper? {
        try await client.query(
            PostgresQuery(unsafeSQL: "SELECT \(Helper.pgColumns) FROM helpers WHERE handle = $1", binds: binds(handle)),
            logger: logger
        ).first(Helper.init(pg:))
    }

    public func helpers(role: Role?) async throws -> [Helper] {
        try await client.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(Helper.pgColumns) FROM helpers WHERE $1::text IS NULL OR role = $1 ORDER BY handle",
                binds: binds(role?.rawValue)
            ),
            logger: logger
        ).all(Helper.init(pg:))
    }

    public func updateHelper(id: String, change: HelperChange, at now: Date) async throws -> Helper {
        let logger = logger
        // A change that could end an admin locks the account and every active admin (in id order, so two such
        // changes never deadlock) before counting them: of two admins demoting each other at the same instant,
        // the second sees the first's change and is refused.
        let mayEndAdmin = change.role.map { $0 != .admin } ?? false || change.active == false
        return try await transaction { connection in
            let locked = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(Helper.pgColumns) FROM helpers WHERE id = $1 OR ($2 AND role = 'admin' AND active)
                        ORDER BY id FOR NO KEY UPDATE
                        """,
                    binds: binds(id, mayEndAdmin)
                ),
                logger: logger
            ).all(Helper.init(pg:))
            guard let current = locked.first(where: { $0.id == id }) else { throw PatenError.notFound("helper", id: id) }
            try HelperDirectory.requireAdminRemains(
                current, change, otherActiveAdmins: locked.filter { $0.id != id && $0.role == .admin && $0.active }.count
            )
            let updated = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE helpers SET updated_at = $1, display_name = COALESCE($2, display_name),
                        role = COALESCE($3, role), skills = COALESCE($4, skills), languages = COALESCE($5, languages),
                        capacity = COALESCE($6, capacity), presence = COALESCE($7, presence), active = COALESCE($8, active)
                        WHERE id = $9 RETURNING \(Helper.pgColumns)
                        """,
                    binds: binds(
                        now.millisecondsSince1970, change.displayName, change.role?.rawValue, change.skills.map(jsonList),
                        change.languages.map(jsonList), change.capacity, change.presence?.rawValue, change.active, id
                    )
                ),
                logger: logger
            ).first(Helper.init(pg:))
            guard let updated else { throw PatenError.notFound("helper", id: id) }
            return updated
        }
    }

    public func helperCount() async throws -> Int {
        try await client.query("SELECT COUNT(*) FROM helpers", logger: logger).first { try $0.decode(Int.self) } ?? 0
    }
}

extension PostgresStore: TokenRepository {
    /// How stale `last_used_at` may get before a request writes it again; saves a write per request.
    static let lastUsedResolution: Int64 = 60_000

    public func insertToken(_ token: AccessToken, secretHash: String) async throws {
        try await client.query(
            """
            INSERT INTO access_tokens (id, helper_id, label, secret_hash, secret_prefix, created_at)
            VALUES (\(token.id), \(token.helperId), \(token.label), \(secretHash), \(token.prefix),
            \(token.createdAt.millisecondsSince1970))
            """,
            logger: logger
        )
    }

    public func authenticate(secretHash: String, at now: Date) async throws -> (helper: Helper, token: AccessToken)? {
        guard
            let token = try await client.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(AccessToken.pgColumns) FROM access_tokens WHERE secret_hash = $1 AND revoked_at IS NULL
                        """,
                    binds: binds(secretHash)
                ),
                logger: logger
            ).first(AccessToken.init(pg:)),
            let helper = try await helper(id: token.helperId), helper.active
        else { return nil }
        let nowMs = now.millisecondsSince1970
        if (token.lastUsedAt?.millisecondsSince1970 ?? 0) + Self.lastUsedResolution <= nowMs {
            try await client.query("UPDATE access_tokens SET last_used_at = \(nowMs) WHERE id = \(token.id)", logger: logger)
        }
        return (helper, token)
    }

    public func tokens(helperId: String?) async throws -> [AccessToken] {
        try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(AccessToken.pgColumns) FROM access_tokens WHERE $1::text IS NULL OR helper_id = $1
                    ORDER BY created_at DESC, id
                    """,
                binds: binds(helperId)
            ),
            logger: logger
        ).all(AccessToken.init(pg:))
    }

    public func token(id: String) async throws -> AccessToken? {
        try await client.query(
            PostgresQuery(unsafeSQL: "SELECT \(AccessToken.pgColumns) FROM access_tokens WHERE id = $1", binds: binds(id)),
            logger: logger
        ).first(AccessToken.init(pg:))
    }

    public func revokeToken(id: String, at now: Date) async throws -> AccessToken {
        let revoked = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2
                    RETURNING \(AccessToken.pgColumns)
                    """,
                binds: binds(now.millisecondsSince1970, id)
            ),
            logger: logger
        ).first(AccessToken.init(pg:))
        guard let revoked else { throw PatenError.notFound("token", id: id) }
        return revoked
    }
}

/// Positional bindings for `$1, $2, ...`; nil binds NULL.
func binds(_ values: (any PostgresEncodable & Sendable)?...) throws -> PostgresBindings {
    var bindings = PostgresBindings(capacity: values.count)
    for value in values {
        if let value {
            try bindings.append(value)
        } else {
            bindings.appendNull()
        }
    }
    return bindings
}
