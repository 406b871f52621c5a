import Foundation
import GRDB
import PatenCore

extension SQLiteStore: QuestionRepository {
    public func question(id: String) async throws -> Question? {
        try await pool.read { db in try Self.fetchQuestion(db, id) }
    }

    public func questionDetail(id: String, page: DetailPage) async throws -> QuestionDetail? {
        try await pool.read { db in
            guard let question = try Self.fetchQuestion(db, id) else { return nil }
            // One page of each, read one row past the limit to know whether more follow. A message cursor names the
            // last message read; one that is not this question's matches nothing (an empty page), not the start.
            var messageFilter = ""
            var messageArguments: StatementArguments = [id]
            if let after = page.messagesAfter {
                messageFilter =
                    "AND (created_at, rowid) > (SELECT created_at, rowid FROM messages WHERE id = ? AND question_id = ?)"
                messageArguments += [after, id]
            }
            messageArguments += [page.messageLimit + 1]
            let messages = try db.fetchAll(
                Message.self,
                sql: """
                    SELECT \(Message.columns) FROM messages WHERE question_id = ? \(messageFilter)
                    ORDER BY created_at, rowid LIMIT ?
                    """,
                arguments: messageArguments
            )
            let events = try db.fetchAll(
                QuestionEvent.self,
                sql: """
                    SELECT \(QuestionEvent.columns) FROM question_events WHERE question_id = ? AND seq > ?
                    ORDER BY seq LIMIT ?
                    """,
                arguments: [id, page.eventsAfter ?? 0, page.eventLimit + 1]
            )
            let shownMessages = Array(messages.prefix(page.messageLimit))
            let shownEvents = Array(events.prefix(page.eventLimit))
            var named = Set(shownMessages.compactMap(\.helperId) + shownEvents.compactMap(\.actorId))
            if let holder = question.holderId { named.insert(holder) }
            if let resolver = question.resolvedBy { named.insert(resolver) }
            let link = try Row.fetchOne(
                db, sql: "SELECT token_hash, issued_at, token_expires_at, score FROM ratings WHERE question_id = ?",
                arguments: [id]
            ).map { row in
                IssuedRatingLink(
                    tokenHash: row["token_hash"], issuedAt: Date(millisecondsSince1970: row["issued_at"]),
                    expiresAt: Date(millisecondsSince1970: row["token_expires_at"]), used: (row["score"] as Int?) != nil
                )
            }
            return QuestionDetail(
                question: question, messages: shownMessages, events: shownEvents,
                handles: try Self.handles(db, Array(named)),
                messagesNext: messages.count > page.messageLimit ? shownMessages.last?.id : nil,
                eventsNext: events.count > page.eventLimit ? shownEvents.last?.sequence : nil, ratingLink: link
            )
        }
    }

    public func questions(matching filter: QuestionFilter) async throws -> QuestionPage {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        func add(_ condition: String, _ values: (any DatabaseValueConvertible)?...) {
            conditions.append(condition)
            arguments.append(contentsOf: values)
        }
        if let state = filter.state { add("state = ?", state.rawValue) }
        if let tier = filter.tier { add("tier = ?", tier.rawValue) }
        if let topic = filter.topic { add("topic = ?", topic) }
        if let holder = filter.holderId { add("holder_id = ?", holder) }
        if let channel = filter.channel { add("channel = ?", channel) }
        if let after = filter.after {
            // A row-value comparison lets the index seek straight to the page.
            add("(created_at, id) < (?, ?)", after.createdAt.millisecondsSince1970, after.id)
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(filter.limit + 1)
        let bound = StatementArguments(arguments)
        let rows = try await pool.read { db in
            try db.fetchAll(
                Question.self,

                sql: """
                    SELECT \(Question.columns) FROM questions \(whereClause)
                    ORDER BY created_at DESC, id DESC LIMIT ?
                    """,
                arguments: bound
            )
        }
        let page = Array(rows.prefix(filter.limit))
        let next = rows.count > filter.limit ? page.last.map { QuestionCursor(createdAt: $0.createdAt, id: $0.id) } : nil
        return QuestionPage(questions: page, next: next)
    }

    public func queue(
        for helper: Helper, tiers: [Tier], excludingTopics: [String], at now: Date, limit: Int
    ) async throws -> [Question] {
        guard !tiers.isEmpty else { return [] }
        // Best first: one point each for a topic in the helper's skills and a language they speak, then higher
        // priority, then longest waiting. Open questions are read one score at a time along the index of open
        // questions by priority and age, each read stopping after a page; questions whose claim ran out (few:
        // lease expiry frees them every few seconds) come from the lease index. The pieces are merged here.
        func membership(_ column: String, _ values: [String]) -> String {
            values.isEmpty ? "0" : "(CASE WHEN \(column) IN (\(placeholders(values.count))) THEN 1 ELSE 0 END)"
        }
        let score = "\(membership("topic", helper.skills)) + \(membership("language", helper.languages))"
        let scoreValues = helper.skills + helper.languages
        let tierValues = tiers.map(\.rawValue)
        let nowMs = now.millisecondsSince1970
        // Topics the volunteer has not unlocked are left out.
        let notIn = excludingTopics.isEmpty ? "" : " AND topic NOT IN (\(placeholders(excludingTopics.count)))"
        let open = """
            SELECT \(Question.columns), \(score) AS score FROM questions INDEXED BY questions_open_by_rank
            WHERE state = 'open' AND tier IN (\(placeholders(tiers.count))) AND \(score) = ?\(notIn)
            ORDER BY priority_rank DESC, created_at, id LIMIT ?
            """
        let expired = """
            SELECT \(Question.columns), \(score) AS score FROM questions
            WHERE state = 'claimed' AND lease_expires_at <= ? AND tier IN (\(placeholders(tiers.count)))\(notIn)
            """
        let best = helper.skills.isEmpty ? (helper.languages.isEmpty ? 0 : 1) : (helper.languages.isEmpty ? 1 : 2)
        return try await pool.read { db -> [Question] in
            var found: [(question: Question, score: Int, rank: Int)] = []
            // Cached per connection: the text varies only with how many skills and languages a helper has.
            let expiredRows = try db.fetchAll(
                Row.self, sql: expired,
                arguments: StatementArguments(
                    scoreValues.map { $0 as (any DatabaseValueConvertible)? } + [nowMs] + tierValues.map { $0 }
                        + excludingTopics.map { $0 }
                )
            )
            for row in expiredRows {
                let question = try Question(row: row)
                found.append((question, row["score"], question.priority.rank))
            }
            for bucket in stride(from: best, through: 0, by: -1) {
                // Higher buckets already fill the page: lower ones cannot make it in.
                if found.filter({ $0.score > bucket }).count >= limit { break }
                let rows = try db.fetchAll(
                    Row.self, sql: open,
                    arguments: StatementArguments(
                        (scoreValues + tierValues + scoreValues).map { $0 as (any DatabaseValueConvertible)? }
                            + [bucket] + excludingTopics.map { $0 } + [limit]
                    )
                )
                for row in rows {
                    let question = try Question(row: row)
                    found.append((question, bucket, question.priority.rank))
                }
            }
            var page = found.sorted {
                ($1.score, $1.rank, $0.question.createdAt, $0.question.id)
                    < ($0.score, $0.rank, $1.question.createdAt, $1.question.id)
            }.prefix(limit).map(\.question)
            // Which of them belong to an incident, in the same read (volunteers are shown it).
            if !page.isEmpty {
                var links: [String: String] = [:]
                for row in try Row.fetchAll(
                    db,
                    sql: """
                        SELECT question_id, incident_id FROM incident_questions
                        WHERE question_id IN (\(placeholders(page.count)))
                        """,
                    arguments: StatementArguments(page.map(\.id))
                ) {
                    links[row[0]] = row[1]
                }
                for index in page.indices { page[index].incidentId = links[page[index].id] }
            }
            return page
        }
    }

    public func isReady() async throws -> Bool {
        try await pendingMigrations().isEmpty
    }
}

// Statements shared by the transactions above. Each runs inside the caller's transaction.
extension SQLiteStore {
    static func fetchQuestion(_ db: Database, _ id: String) throws -> Question? {
        try db.fetchOne(Question.self, sql: "SELECT \(Question.columns) FROM questions WHERE id = ?", arguments: [id])
    }

    static func requireQuestion(_ db: Database, _ id: String) throws -> Question {
        guard let question = try fetchQuestion(db, id) else { throw PatenError.notFound("question", id: id) }
        return question
    }

    static func handles(_ db: Database, _ ids: [String]) throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        let rows = try db.fetchAll(
            Row.self,
            sql: "SELECT id, handle FROM helpers WHERE id IN (\(placeholders(ids.count)))",
            arguments: StatementArguments(ids)
        )
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["id"], $0["handle"]) })
    }
}

/// `?, ?, ?` for a list of `count` bound values.
func placeholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}

extension Optional {
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
