import GRDB

/// One schema migration: an id that sorts in order and the SQL that applies it. Never edited once landed.
struct SQLMigration: Sendable {
    let id: String
    let sql: String
}

extension DatabaseMigrator {
    /// The migrator for Paten's SQLite schema, applying every file of Migrations/sqlite in order.
    static var paten: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in EmbeddedMigrations.sqlite {
            migrator.registerMigration(migration.id) { db in
                try db.execute(sql: migration.sql)
            }
        }
        return migrator
    }
}
