import Foundation
import GRDB
import PatenCore

extension SQLiteStore: HelperRepository {
    public func insertHelper(_ helper: Helper) async throws {
        try await pool.write { db in try Self.insertHelper(db, helper) }
    }

    /// Inserts an account inside the caller's transaction; a taken handle is a `handle_taken` conflict.
    static func insertHelper(_ db: Database, _ helper: Helper) throws {
        do {
            try db.run(
                sql: """
                    INSERT INTO helpers (\(Helper.columns))
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
                    """,
                arguments: [
                    helper.id, helper.handle, helper.displayName, helper.role.rawValue,
                    StoredValue.json(helper.skills), StoredValue.json(helper.languages), helper.capacity,
                    helper.presence.rawValue, helper.active, helper.createdAt.millisecondsSince1970,
                    helper.updatedAt.millisecondsSince1970,
                ]
            )
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw PatenError.conflict("handle_taken", "The handle '\(helper.handle)' is taken; choose another.")
        }
    }

    public func helper(id: String) async throws -> Helper? {
        try await pool.read { db in
            try db.fetchOne(Helper.self, sql: "SELECT \(Helper.columns) FROM helpers WHERE id = ?", arguments: [id])
        }
    }

    public func helper(handle: String) async throws -> Helper? {
        try await pool.read { db in
            try db.fetchOne(Helper.self, sql: "SELECT \(Helper.columns) FROM helpers WHERE handle = ?", arguments: [handle])
        }
    }

    public func helpers(role: Role?) async throws -> [Helper] {
        try await pool.read { db in
            if let role {
                return try db.fetchAll(
                    Helper.self,
                    sql: "SELECT \(Helper.columns) FROM helpers WHERE role = ? ORDER BY handle",
                    arguments: [role.rawValue]
                )
            }
            return try db.fetchAll(Helper.self, sql: "SELECT \(Helper.columns) FROM helpers ORDER BY handle")
        }
    }

    public func updateHelper(id: String, change: HelperChange, at now: Date) async throws -> Helper {
        try await pool.write { db in
            // Read and checked inside the write: SQLite runs one write at a time, so no other change to the admins
            // can slip in between the check and the update.
            guard
                let current = try db.fetchOne(Helper.self, sql: "SELECT \(Helper.columns) FROM helpers WHERE id = ?", arguments: [id])
            else { throw PatenError.notFound("helper", id: id) }
            let otherAdmins =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM helpers WHERE role = 'admin' AND active = 1 AND id <> ?", arguments: [id]
                ) ?? 0
            try HelperDirectory.requireAdminRemains(current, change, otherActiveAdmins: otherAdmins)
            var assignments = ["updated_at = ?"]
            var arguments: [(any DatabaseValueConvertible)?] = [now.millisecondsSince1970]
            func set(_ column: String, _ value: (any DatabaseValueConvertible)?) {
                guard let value else { return }
                assignments.append("\(column) = ?")
                arguments.append(value)
            }
            set("display_name", change.displayName)
            set("role", change.role?.rawValue)
            set("skills", change.skills.map(StoredValue.json))
            set("languages", change.languages.map(StoredValue.json))
            set("capacity", change.capacity)
            set("presence", change.presence?.rawValue)
            set("active", change.active)
            arguments.append(id)
            try db.run(
                sql: "UPDATE helpers SET \(assignments.joined(separator: ", ")) WHERE id = ?",
                arguments: StatementArguments(arguments)
            )
            guard
                let helper = try db.fetchOne(
                    Helper.self,
                    sql: "SELECT \(Helper.columns) FROM helpers WHERE id = ?", arguments: [id]
                )
            else { throw PatenError.notFound("helper", id: id) }
            return helper
        }
    }

    public func helperCount() async throws -> Int {
        try await pool.read { db in try db.fetchOne(Int.self, sql: "SELECT COUNT(*) FROM helpers") ?? 0 }
    }
}

extension SQLiteStore: TokenRepository {
    /// How stale `last_used_at` may get before a request writes it again; saves a write per request.
    static let lastUsedResolution: Int64 = 60_000

    public func insertToken(_ token: AccessToken, secretHash: String) async throws {
        try await pool.write { db in
            try db.run(
                sql: """
                    INSERT INTO access_tokens (id, helper_id, label, secret_hash, secret_prefix, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    token.id, token.helperId, token.label, secretHash, token.prefix,
                    token.createdAt.millisecondsSince1970,
                ]
            )
        }
    }

    public func authenticate(secretHash: String, at now: Date) async throws -> (helper: Helper, token: AccessToken)? {
        let found = try await pool.read { db -> (Helper, AccessToken)? in
            guard
                let token = try db.fetchOne(
                    AccessToken.self,

                    sql: """
                        SELECT \(AccessToken.columns) FROM access_tokens
                        WHERE secret_hash = ? AND revoked_at IS NULL
                        """,
                    arguments: [secretHash]
                ),
                let helper = try db.fetchOne(
                    Helper.self,
                    sql: "SELECT \(Helper.columns) FROM helpers WHERE id = ? AND active = 1",
                    arguments: [token.helperId]
                )
            else { return nil }
            return (helper, token)
        }
        guard let (helper, token) = found else { return nil }
        let nowMs = now.millisecondsSince1970
        if (token.lastUsedAt?.millisecondsSince1970 ?? 0) + Self.lastUsedResolution <= nowMs {
            try await pool.write { db in
                try db.run(sql: "UPDATE access_tokens SET last_used_at = ? WHERE id = ?", arguments: [nowMs, token.id])
            }
        }
        return (helper, token)
    }

    public func tokens(helperId: String?) async throws -> [AccessToken] {
        try await pool.read { db in
            if let helperId {
                return try db.fetchAll(
                    AccessToken.self,

                    sql: """
                        SELECT \(AccessToken.columns) FROM access_tokens WHERE helper_id = ?
                        ORDER BY created_at DESC, id
                        """,
                    arguments: [helperId]
                )
            }
            return try db.fetchAll(
                AccessToken.self,
                sql: "SELECT \(AccessToken.columns) FROM access_tokens ORDER BY created_at DESC, id"
            )
        }
    }

    public func token(id: String) async throws -> AccessToken? {
        try await pool.read { db in
            try db.fetchOne(
                AccessToken.self,
                sql: "SELECT \(AccessToken.columns) FROM access_tokens WHERE id = ?", arguments: [id]
            )
        }
    }

    public func revokeToken(id: String, at now: Date) async throws -> AccessToken {
        try await pool.write { db in
            try db.run(
                sql: "UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                arguments: [now.millisecondsSince1970, id]
            )
            guard
                let token = try db.fetchOne(
                    AccessToken.self,
                    sql: "SELECT \(AccessToken.columns) FROM access_tokens WHERE id = ?", arguments: [id]
                )
            else { throw PatenError.notFound("token", id: id) }
            return token
        }
    }
}
