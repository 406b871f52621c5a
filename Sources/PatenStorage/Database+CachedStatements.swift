import GRDB

// Paten's statements are fixed strings, so each is compiled once per connection and reused from GRDB's statement
// cache. Compiling (parsing and authorizing) a statement costs more than running it on these small transactions.
extension Database {
    /// Runs one statement.
    func run(sql: String, arguments: StatementArguments = []) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// The first record, if any.
    func fetchOne<Record: FetchableRecord>(
        _ type: Record.Type, sql: String, arguments: StatementArguments = []
    )
        throws -> Record?
    {
        try Record.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    /// All records.
    func fetchAll<Record: FetchableRecord>(
        _ type: Record.Type, sql: String, arguments: StatementArguments = []
    )
        throws -> [Record]
    {
        try Record.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    /// The first row, if any.
    func fetchOne(_ type: Row.Type, sql: String, arguments: StatementArguments = []) throws -> Row? {
        try Row.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    /// All rows.
    func fetchAll(_ type: Row.Type, sql: String, arguments: StatementArguments = []) throws -> [Row] {
        try Row.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    /// The first value, if any.
    func fetchOne<Value: DatabaseValueConvertible & StatementColumnConvertible>(
        _ type: Value.Type, sql: String, arguments: StatementArguments = []
    ) throws -> Value? {
        try Value.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    /// All values.
    func fetchAll<Value: DatabaseValueConvertible & StatementColumnConvertible>(
        _ type: Value.Type, sql: String, arguments: StatementArguments = []
    ) throws -> [Value] {
        try Value.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }
}
