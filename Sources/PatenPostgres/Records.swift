import Foundation
import PatenCore
import PostgresNIO

// Rows to domain values, by column name, and the statements' shared column lists (the same as SQLite's).

extension PostgresRandomAccessRow {
    /// The named column's value.
    func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self)
    }

    /// A millisecond time column.
    func date(_ column: String) throws -> Date { Date(millisecondsSince1970: try value(column, as: Int64.self)) }

    /// A nullable millisecond time column.
    func optionalDate(_ column: String) throws -> Date? {
        try value(column, as: Int64?.self).map(Date.init(millisecondsSince1970:))
    }

    /// A text column holding one of an enumeration's raw values.
    func decoded<T: RawRepresentable>(_ column: String, as type: T.Type) throws -> T where T.RawValue == String {
        let raw = try value(column, as: String.self)
        guard let value = T(rawValue: raw) else {
            throw PatenError(.unavailable, code: "corrupt_row", message: "Stored value '\(raw)' is not a \(T.self).")
        }
        return value
    }

    /// A JSON array of strings in a text column.
    func list(_ column: String) throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(try value(column, as: String.self).utf8))
    }
}

extension Helper {
    static let pgColumns =
        "id, handle, display_name, role, skills, languages, capacity, presence, active, created_at, updated_at, paused_at"

    init(pg row: PostgresRow) throws {
        let row = row.makeRandomAccess()
        self.init(
            id: try row.value("id"), handle: try row.value("handle"), displayName: try row.value("display_name"),
            role: try row.decoded("role", as: Role.self), skills: try row.list("skills"),
            languages: try row.list("languages"), capacity: try row.value("capacity", as: Int.self),
            presence: try row.optionalDate("paused_at") != nil ? .paused : try row.decoded("presence", as: Presence.self),
            active: try row.value("active"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at")
        )
    }
}

extension AccessToken {
    static let pgColumns = "id, helper_id, label, secret_prefix, created_at, last_used_at, revoked_at"

    init(pg row: PostgresRow) throws {
        let row = row.makeRandomAccess()
        self.init(
            id: try row.value("id"), helperId: try row.value("helper_id"), label: try row.value("label"),
            prefix: try row.value("secret_prefix"), createdAt: try row.date("created_at"),
            lastUsedAt: try row.optionalDate("last_used_at"), revokedAt: try row.optionalDate("revoked_at")
        )
    }
}

extension PostgresRowSequence {
    /// Every row, made into values.
    func all<T>(_ make: (PostgresRow) throws -> T) async throws -> [T] {
        var values: [T] = []
        for try await row in self { values.append(try make(row)) }
        return values
    }

    /// The first row made into a value, if any.
    func first<T>(_ make: (PostgresRow) throws -> T) async throws -> T? {
        for try await row in self { return try make(row) }
        return nil
    }
}

extension PSQLError: StorageDriverError {
    /// Whether the server refused the statement for a unique constraint.
    var isUniqueViolation: Bool { serverInfo?[.sqlState] == "23505" }

    /// Whether the one-live-claim-per-question index refused a second claim.
    var isSecondClaim: Bool { isUniqueViolation && serverInfo?[.constraintName] == "claims_one_holder" }

    /// Whether the server aborted the transaction for a serialization failure (40001) or a deadlock (40P01): it
    /// changed nothing and may simply be run again.
    var isTransientConflict: Bool { ["40001", "40P01"].contains(serverInfo?[.sqlState]) }

    public var meansUnavailable: Bool {
        if [
            .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown,
            .sslUnsupported, .failedToAddSSLHandler,
        ].contains(code) {
            return true
        }
        // The server's own trouble, not the statement's: a lost connection (08), a full disk, no memory or too
        // many connections (53), shutting down or starting up (57P), an I/O error (58).
        guard let state = serverInfo?[.sqlState] else { return false }
        return ["08", "53", "57P", "58"].contains { state.hasPrefix($0) }
    }
}

/// JSON text for a list of strings, as SQLite stores it.
func jsonList(_ values: [String]) -> String {
    (try? String(decoding: JSONEncoder().encode(values), as: UTF8.self)) ?? "[]"
}
