import Foundation
import GRDB
import PatenCore

// Signatures, surges and incidents on SQLite. Intake loads the similar questions `SurgeRules` asks for in the
// writer's transaction (SQLite's one writer is the lock: two intakes are grouped one after the other); incident
// commands load the incident and its questions in one write. No rule lives here.

extension Incident {
    static let columns = """
        id, state, title, top_terms, observed, expected, probability, window_seconds, anchor_question_id, opened_at, \
        resolved_at, resolved_by, merged_into, updated_at
        """

    init(sqlite row: Row) throws {
        self.init(
            id: row["id"], state: try StoredValue.decode(IncidentState.self, row["state"]), title: row["title"],
            topTerms: SimilaritySignature.terms(stored: row["top_terms"]), observed: row["observed"],
            expected: row["expected"], probability: row["probability"],
            window: TimeInterval(row["window_seconds"] as Int), anchorQuestionId: row["anchor_question_id"],
            openedAt: Date(millisecondsSince1970: row["opened_at"]), resolvedAt: StoredValue.date(row["resolved_at"]),
            resolvedBy: row["resolved_by"], mergedInto: row["merged_into"],
            updatedAt: Date(millisecondsSince1970: row["updated_at"])
        )
    }
}

extension IncidentUpdate {
    static let columns = "id, incident_id, kind, body, created_by, created_at"

    init(sqlite row: Row) throws {
        self.init(
            id: row["id"], incidentId: row["incident_id"], kind: try StoredValue.decode(Kind.self, row["kind"]),
            body: row["body"], createdBy: row["created_by"], createdAt: Date(millisecondsSince1970: row["created_at"])
        )
    }
}

extension SQLiteStore {
    // MARK: Intake

    public func apply(
        intake surge: SurgeNeeds?, _ decide: @escaping @Sendable (SurgeSnapshot) -> QuestionChange
    ) async throws -> AppliedChange {
        // The horizon's similar signatures are read on one of the readers, before the write: reading them in SQLite's
        // one writer cost 3.5 times the rest of an intake's write (perf, docs/performance.md). A question written in
        // between is missed by this one: two similar questions arriving together may start two groups, which the
        // next similar question joins again (its similar questions' groups are counted as one); whether a group
        // has an open incident, and the group's count, are read again in the writer.
        var recent: [SignatureMatch] = []
        if let surge, surge.looks {
            recent = try await pool.read { db in
                try Self.matches(db, bands: surge.signature.bands, from: surge.horizonStart, to: surge.now)
            }
        }
        return try await pool.write { [recent] db in
            let snapshot = try surge.map { try Self.surgeSnapshot(db, $0, recent: recent) } ?? SurgeSnapshot()
            return try Self.apply(db, decide(snapshot))
        }
    }

    /// What intake's surge rules read, loaded step by step as `QuestionChangeStore.apply(intake:_:)` describes, from
    /// the horizon's matches read before the write.
    static func surgeSnapshot(_ db: Database, _ needs: SurgeNeeds, recent: [SignatureMatch]) throws -> SurgeSnapshot {
        var snapshot = SurgeSnapshot()
        guard needs.looks else { return snapshot }
        snapshot.recent = recent
        switch SurgeRules.plan(needs, recent: snapshot.recent) {
        case .alone:
            return snapshot
        case .join(let incidentId):
            snapshot.join = try join(db, incidentId)
            return snapshot
        case .groups(let groups):
            // An incident opened among these groups since the matches were read is joined.
            if let incidentId = try openIncident(db, groups, since: needs.horizonStart) {
                snapshot.join = try join(db, incidentId)
                return snapshot
            }
            snapshot.groupCount =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(DISTINCT q.channel || char(31) || q.customer_id)
                        FROM question_signatures s JOIN questions q ON q.id = s.question_id
                        WHERE s.group_id IN (\(placeholders(groups.count))) AND s.created_at >= ?
                        """,
                    arguments: StatementArguments(
                        groups + [needs.windowStart.millisecondsSince1970] as [any DatabaseValueConvertible]
                    )
                ) ?? 0
            guard SurgeRules.largeEnough(needs, groupCount: snapshot.groupCount) else { return snapshot }
            snapshot.members = try members(db, groups, since: needs.windowStart)
            let bands = SurgeRules.baselineBands(needs, members: snapshot.members)
            snapshot.baseline = try SurgeRules.baselineWindows(needs).map { window in
                try pastMatches(db, bands: bands, from: window.start, to: window.end)
            }
            let verdict = SurgeRules.verdict(needs, members: snapshot.members, baseline: snapshot.baseline)
            if verdict.isSurge { snapshot.members = try members(db, groups, since: needs.horizonStart) }
            return snapshot
        }
    }

    /// Signatures made from `from` to `to` that share one of the bands (the newest `SurgeRules.recentLimit`), with
    /// the open incident each is linked to: one cached statement over the band index, newest first.
    static func matches(_ db: Database, bands: [Int64], from: Date, to: Date) throws -> [SignatureMatch] {
        guard !bands.isEmpty else { return [] }
        return try db.fetchAll(
            Row.self,
            sql: """
                SELECT s.question_id, s.created_at, s.group_id, s.terms, i.id FROM (
                    SELECT rowid AS hit FROM signature_band_index WHERE signature_band_index MATCH ?
                    ORDER BY rowid DESC LIMIT ?
                ) hits
                JOIN questions q ON q.rowid = hits.hit JOIN question_signatures s ON s.question_id = q.id
                LEFT JOIN incident_questions iq ON iq.question_id = s.question_id
                LEFT JOIN incidents i ON i.id = iq.incident_id AND i.state = 'open'
                WHERE s.created_at >= ? AND s.created_at <= ?
                """,
            arguments: [
                SimilaritySignature.bandQuery(bands), SurgeRules.recentLimit, from.millisecondsSince1970,
                to.millisecondsSince1970,
            ]
        ).map { row in
            SignatureMatch(
                questionId: row[0], createdAt: Date(millisecondsSince1970: row[1]), groupId: row[2],
                terms: SimilaritySignature.terms(stored: row[3]), incidentId: row[4]
            )
        }
    }

    /// Signatures made from `from` to `to` (a past week's window) sharing one of the bands, at most
    /// `SurgeRules.baselineLimit`: the window's questions' rowids bound the band index's search.
    static func pastMatches(_ db: Database, bands: [Int64], from: Date, to: Date) throws -> [SignatureMatch] {
        guard !bands.isEmpty,
            let range = try db.fetchOne(
                Row.self, sql: "SELECT MIN(rowid), MAX(rowid) FROM questions WHERE created_at >= ? AND created_at <= ?",
                arguments: [from.millisecondsSince1970, to.millisecondsSince1970]
            ), let first: Int64 = range[0], let last: Int64 = range[1]
        else { return [] }
        return try db.fetchAll(
            Row.self,
            sql: """
                SELECT s.question_id, s.created_at, s.group_id, s.terms FROM (
                    SELECT rowid AS hit FROM signature_band_index WHERE signature_band_index MATCH ?
                    AND rowid >= ? AND rowid <= ? ORDER BY rowid DESC LIMIT ?
                ) hits
                JOIN questions q ON q.rowid = hits.hit JOIN question_signatures s ON s.question_id = q.id
                WHERE s.created_at >= ? AND s.created_at <= ?
                """,
            arguments: [
                SimilaritySignature.bandQuery(bands), first, last, SurgeRules.baselineLimit,
                from.millisecondsSince1970, to.millisecondsSince1970,
            ]
        ).map { row in
            SignatureMatch(
                questionId: row[0], createdAt: Date(millisecondsSince1970: row[1]), groupId: row[2],
                terms: SimilaritySignature.terms(stored: row[3])
            )
        }
    }

    /// The open incident one of the groups' questions asked since `since` is linked to, if any (the newest such link).
    static func openIncident(_ db: Database, _ groups: [String], since: Date) throws -> String? {
        try String.fetchOne(
            db,
            sql: """
                SELECT i.id FROM question_signatures s
                JOIN incident_questions iq ON iq.question_id = s.question_id
                JOIN incidents i ON i.id = iq.incident_id AND i.state = 'open'
                WHERE s.group_id IN (\(placeholders(groups.count))) AND s.created_at >= ?
                ORDER BY s.created_at DESC, s.question_id DESC LIMIT 1
                """,
            arguments: StatementArguments(groups + [since.millisecondsSince1970] as [any DatabaseValueConvertible])
        )
    }

    /// The groups' questions asked since `since`, newest first (at most `SurgeRules.membersLimit`), with their
    /// incidents.
    static func members(_ db: Database, _ groups: [String], since: Date) throws -> [GroupMember] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT \(qualified(Question.columns)), s.terms, s.bands, iq.incident_id, i.state
                FROM question_signatures s JOIN questions q ON q.id = s.question_id
                LEFT JOIN incident_questions iq ON iq.question_id = s.question_id
                LEFT JOIN incidents i ON i.id = iq.incident_id
                WHERE s.group_id IN (\(placeholders(groups.count))) AND s.created_at >= ?
                ORDER BY s.created_at DESC, s.question_id DESC LIMIT ?
                """,
            arguments: StatementArguments(
                groups + [since.millisecondsSince1970, SurgeRules.membersLimit] as [any DatabaseValueConvertible]
            )
        ).map { row in
            let bands: Data = row[20]
            return GroupMember(
                question: try Question(row: row), terms: SimilaritySignature.terms(stored: row[19]),
                bands: SimilaritySignature.bands(stored: Array(bands)) ?? [], incidentId: row[21],
                incidentOpen: (row[22] as String?) == IncidentState.open.rawValue
            )
        }
    }

    /// The open incident a question joins, with its latest update and that update's author.
    static func join(_ db: Database, _ incidentId: String) throws -> IncidentJoin? {
        guard
            let incident = try Row.fetchOne(
                db, sql: "SELECT \(Incident.columns) FROM incidents WHERE id = ? AND state = 'open'",
                arguments: [incidentId]
            ).map(Incident.init(sqlite:))
        else { return nil }
        let update = try latestUpdate(db, incidentId)
        let author = try update.flatMap { update in
            try db.fetchOne(
                Helper.self, sql: "SELECT \(Helper.columns) FROM helpers WHERE id = ?", arguments: [update.createdBy]
            )
        }
        return IncidentJoin(incident: incident, latestUpdate: update, author: author)
    }

    static func latestUpdate(_ db: Database, _ incidentId: String) throws -> IncidentUpdate? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT \(IncidentUpdate.columns) FROM incident_updates WHERE incident_id = ?
                ORDER BY created_at DESC, id DESC LIMIT 1
                """,
            arguments: [incidentId]
        ).map(IncidentUpdate.init(sqlite:))
    }

    // MARK: Effects

    static func storeSignature(
        _ db: Database, _ questionId: String, groupId: String, _ signature: SimilaritySignature, at: Date,
        keepUntil: Date
    ) throws {
        let created = at.millisecondsSince1970
        try db.run(
            sql: """
                INSERT INTO question_signatures (question_id, group_id, created_at, keep_until, terms, bands)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                questionId, groupId, created, keepUntil.millisecondsSince1970, signature.storedTerms,
                Data(signature.storedBands),
            ]
        )
        // The band keys as one document of the band index, under the question's rowid (migration 0011 says why).
        try db.run(
            sql: "INSERT INTO signature_band_index (rowid, bands) SELECT rowid, ? FROM questions WHERE id = ?",
            arguments: [signature.bandWords, questionId]
        )
    }

    static func applyIncidentEffect(_ db: Database, _ effect: QuestionEffect, questionId: String, at now: Date) throws {
        switch effect {
        case .signature(let groupId, let signature, let keepUntil):
            try storeSignature(db, questionId, groupId: groupId, signature, at: now, keepUntil: keepUntil)
        case .keepSignature(let until):
            try db.run(
                sql: "UPDATE question_signatures SET keep_until = MAX(keep_until, ?) WHERE question_id = ?",
                arguments: [until.millisecondsSince1970, questionId]
            )
        case .openIncident(let incident):
            try db.run(
                sql: """
                    INSERT INTO incidents (\(Incident.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    incident.id, incident.state.rawValue, incident.title, incident.topTerms.joined(separator: " "),
                    incident.observed, incident.expected, incident.probability, Int(incident.window),
                    incident.anchorQuestionId, incident.openedAt.millisecondsSince1970,
                    incident.resolvedAt?.millisecondsSince1970, incident.resolvedBy, incident.mergedInto,
                    incident.updatedAt.millisecondsSince1970,
                ]
            )
        case .linkIncident(let link):
            try db.run(
                sql: """
                    INSERT INTO incident_questions (question_id, incident_id, kind, linked_by, linked_at)
                    VALUES (?, ?, ?, ?, ?) ON CONFLICT (question_id) DO NOTHING
                    """,
                arguments: [
                    link.questionId, link.incidentId, link.kind.rawValue, link.linkedBy, link.linkedAt.millisecondsSince1970,
                ]
            )
        case .unlinkIncident(let id):
            try db.run(sql: "DELETE FROM incident_questions WHERE question_id = ?", arguments: [id])
        default:
            preconditionFailure("not an incident effect: \(effect)")
        }
    }
}

extension SQLiteStore: IncidentRepository {
    public func applyIncident(
        id: String, needs: IncidentNeeds, at now: Date,
        _ decide: @escaping @Sendable (IncidentSnapshot) throws -> IncidentChange
    ) async throws -> IncidentSummary {
        try await pool.write { db in
            guard let incident = try Self.loadIncident(db, id) else { throw PatenError.notFound("incident", id: id) }
            var snapshot = IncidentSnapshot(incident: incident, latestUpdate: try Self.latestUpdate(db, id))
            snapshot.anchor = try db.fetchOne(
                Question.self, sql: "SELECT \(Question.columns) FROM questions WHERE id = ?",
                arguments: [incident.anchorQuestionId]
            )
            if let questionNeeds = needs.questions {
                // Resolved questions get nothing an incident sends, so they are not loaded (nor locked).
                let ids = try String.fetchAll(
                    db,
                    sql: """
                        SELECT iq.question_id FROM incident_questions iq JOIN questions q ON q.id = iq.question_id
                        WHERE iq.incident_id = ? AND q.state <> 'resolved' ORDER BY iq.question_id
                        """,
                    arguments: [id]
                )
                snapshot.questions = try ids.map { try Self.snapshot(db, $0, needs: questionNeeds, at: now) }
            }
            if let other = needs.other {
                guard let loaded = try Self.loadIncident(db, other) else { throw PatenError.notFound("incident", id: other) }
                snapshot.other = loaded
            }
            if let target = needs.target {
                snapshot.target = try Self.snapshot(db, target, needs: SnapshotNeeds(), at: now)
                snapshot.targetLink = try Self.link(db, target)
            }
            let change = try decide(snapshot)
            try Self.saveIncident(db, change.incident)
            if let other = change.other { try Self.saveIncident(db, other) }
            if let update = change.update {
                try db.run(
                    sql: "INSERT INTO incident_updates (\(IncidentUpdate.columns)) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [
                        update.id, update.incidentId, update.kind.rawValue, update.body, update.createdBy,
                        update.createdAt.millisecondsSince1970,
                    ]
                )
            }
            if change.moveLinks, let other = change.other {
                try db.run(
                    sql: "UPDATE incident_questions SET incident_id = ? WHERE incident_id = ?",
                    arguments: [change.incident.id, other.id]
                )
            }
            for question in change.questions { _ = try Self.apply(db, question) }
            return try Self.summary(db, change.incident)
        }
    }

    public func incident(id: String) async throws -> IncidentSummary? {
        try await pool.read { db in try Self.loadIncident(db, id).map { try Self.summary(db, $0) } }
    }

    public func incidents(state: IncidentState?, after cursor: String?, limit: Int) async throws -> IncidentPage {
        let start = try IncidentCursor(cursor)
        return try await pool.read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let state {
                conditions.append("state = ?")
                arguments.append(state.rawValue)
            }
            if let start {
                conditions.append("(opened_at < ? OR (opened_at = ? AND id < ?))")
                arguments += [start.openedAt, start.openedAt, start.id]
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let incidents = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Incident.columns) FROM incidents \(filter) ORDER BY opened_at DESC, id DESC LIMIT ?
                    """,
                arguments: StatementArguments(arguments + [limit + 1])
            ).map(Incident.init(sqlite:))
            let page = Array(incidents.prefix(limit))
            return IncidentPage(
                incidents: try page.map { try Self.summary(db, $0) },
                next: incidents.count > limit ? page.last.map { IncidentCursor(of: $0).text } : nil
            )
        }
    }

    public func incidentUpdates(id: String, limit: Int) async throws -> [IncidentUpdate] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(IncidentUpdate.columns) FROM (
                        SELECT \(IncidentUpdate.columns) FROM incident_updates WHERE incident_id = ?
                        ORDER BY created_at DESC, id DESC LIMIT ?
                    ) ORDER BY created_at, id
                    """,
                arguments: [id, limit]
            ).map(IncidentUpdate.init(sqlite:))
        }
    }

    public func incidentQuestions(id: String, after questionId: String?, limit: Int) async throws -> [IncidentQuestion] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.qualified(Question.columns)), iq.incident_id, iq.kind, iq.linked_by, iq.linked_at
                    FROM incident_questions iq JOIN questions q ON q.id = iq.question_id
                    WHERE iq.incident_id = ? AND iq.question_id > ? ORDER BY iq.question_id LIMIT ?
                    """,
                arguments: [id, questionId ?? "", limit]
            ).map { row in
                let question = try Question(row: row)
                return IncidentQuestion(
                    question: question,
                    link: IncidentLink(
                        questionId: question.id, incidentId: row[19],
                        kind: try StoredValue.decode(IncidentLinkKind.self, row[20]), linkedBy: row[21],
                        linkedAt: Date(millisecondsSince1970: row[22])
                    )
                )
            }
        }
    }

    public func incidentBriefs(questionIds: [String]) async throws -> [String: IncidentBrief] {
        guard !questionIds.isEmpty else { return [:] }
        return try await pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT iq.question_id, i.id, i.title, i.state FROM incident_questions iq
                    JOIN incidents i ON i.id = iq.incident_id WHERE iq.question_id IN (\(placeholders(questionIds.count)))
                    """,
                arguments: StatementArguments(questionIds)
            )
            var updates: [String: IncidentUpdate?] = [:]
            var briefs: [String: IncidentBrief] = [:]
            for row in rows {
                let incidentId: String = row[1]
                if updates[incidentId] == nil { updates[incidentId] = .some(try Self.latestUpdate(db, incidentId)) }
                briefs[row[0]] = IncidentBrief(
                    id: incidentId, title: row[2], state: try StoredValue.decode(IncidentState.self, row[3]),
                    latestUpdate: updates[incidentId] ?? nil
                )
            }
            return briefs
        }
    }

    public func signature(questionId: String) async throws -> SimilaritySignature? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT terms, bands FROM question_signatures WHERE question_id = ?", arguments: [questionId]
            ).map { row in
                let bands: Data = row[1]
                return SimilaritySignature(
                    terms: SimilaritySignature.terms(stored: row[0]),
                    bands: SimilaritySignature.bands(stored: Array(bands)) ?? []
                )
            }
        }
    }

    public func solvedCandidates(
        bands: [Int64], excluding questionId: String, limit: Int
    ) async throws
        -> [(id: String, terms: [String])]
    {
        guard !bands.isEmpty else { return [] }
        let wanted = Set(bands)
        return try await pool.read { db in
            // The newest signatures sharing a band (the band index, newest first), the solved ones ranked by how many
            // bands they share.
            let rows = try db.fetchAll(
                Row.self,
                sql: """
                    SELECT s.question_id, s.terms, s.bands FROM (
                        SELECT rowid AS hit FROM signature_band_index WHERE signature_band_index MATCH ?
                        ORDER BY rowid DESC LIMIT ?
                    ) hits
                    JOIN questions q ON q.rowid = hits.hit JOIN question_signatures s ON s.question_id = q.id
                    WHERE q.state = 'resolved' AND q.answer_id IS NOT NULL AND q.id <> ?
                    """,
                arguments: [SimilaritySignature.bandQuery(bands), SurgeRules.solvedLimit, questionId]
            )
            return rows.map { row -> (id: String, terms: [String], shared: Int) in
                let stored: Data = row[2]
                let shared = (SimilaritySignature.bands(stored: Array(stored)) ?? []).filter { wanted.contains($0) }.count
                return (row[0], SimilaritySignature.terms(stored: row[1]), shared)
            }
            .sorted { $0.shared != $1.shared ? $0.shared > $1.shared : $0.id > $1.id }
            .prefix(limit).map { (id: $0.id, terms: $0.terms) }
        }
    }

    public func solvedAnswers(questionIds: [String]) async throws -> [String: (Question, Message?, String?)] {
        guard !questionIds.isEmpty else { return [:] }
        return try await pool.read { db in
            var answers: [String: (Question, Message?, String?)] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.qualified(Question.columns)), m.id, m.question_id, m.author_kind, m.helper_id, m.body,
                    m.created_at, h.handle
                    FROM questions q LEFT JOIN messages m ON m.id = q.answer_id AND m.question_id = q.id
                    LEFT JOIN helpers h ON h.id = m.helper_id
                    WHERE q.id IN (\(placeholders(questionIds.count)))
                    """,
                arguments: StatementArguments(questionIds)
            ) {
                let question = try Question(row: row)
                var message: Message?
                if let id: String = row[19] {
                    message = Message(
                        id: id, questionId: row[20], authorKind: try StoredValue.decode(AuthorKind.self, row[21]),
                        helperId: row[22], body: row[23], createdAt: Date(millisecondsSince1970: row[24])
                    )
                }
                answers[question.id] = (question, message, row[25])
            }
            return answers
        }
    }

    public func purgeSignatures(at now: Date, limit: Int) async throws -> Int {
        // Only what is due is read (the expiry index), so an idle pass costs one index probe on a reader.
        let due = try await pool.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM question_signatures WHERE keep_until < ?)",
                arguments: [now.millisecondsSince1970]
            ) ?? false
        }
        guard due else { return 0 }
        return try await pool.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT question_id, created_at, bands FROM question_signatures WHERE keep_until < ?
                    ORDER BY keep_until LIMIT ?
                    """,
                arguments: [now.millisecondsSince1970, limit]
            )
            for row in rows {
                let id: String = row[0]
                try Self.deleteSignature(db, questionId: id, bands: row[2])
            }
            return rows.count
        }
    }

    /// Deletes the question's signature and its entry in the band index.
    static func deleteSignature(_ db: Database, questionId id: String, bands: Data) throws {
        // A contentless index forgets a document given the words it was made of, which the signature holds.
        try db.run(
            sql: """
                INSERT INTO signature_band_index (signature_band_index, rowid, bands)
                SELECT 'delete', rowid, ? FROM questions WHERE id = ?
                """,
            arguments: [SimilaritySignature.bandWords(SimilaritySignature.bands(stored: Array(bands)) ?? []), id]
        )
        try db.run(sql: "DELETE FROM question_signatures WHERE question_id = ?", arguments: [id])
    }

    // MARK: Loading

    static func loadIncident(_ db: Database, _ id: String) throws -> Incident? {
        try Row.fetchOne(db, sql: "SELECT \(Incident.columns) FROM incidents WHERE id = ?", arguments: [id])
            .map(Incident.init(sqlite:))
    }

    static func link(_ db: Database, _ questionId: String) throws -> IncidentLink? {
        try Row.fetchOne(
            db,
            sql: "SELECT question_id, incident_id, kind, linked_by, linked_at FROM incident_questions WHERE question_id = ?",
            arguments: [questionId]
        ).map { row in
            IncidentLink(
                questionId: row[0], incidentId: row[1], kind: try StoredValue.decode(IncidentLinkKind.self, row[2]),
                linkedBy: row[3], linkedAt: Date(millisecondsSince1970: row[4])
            )
        }
    }

    static func saveIncident(_ db: Database, _ incident: Incident) throws {
        try db.run(
            sql: """
                UPDATE incidents SET state = ?, title = ?, resolved_at = ?, resolved_by = ?, merged_into = ?, updated_at = ?
                WHERE id = ?
                """,
            arguments: [
                incident.state.rawValue, incident.title, incident.resolvedAt?.millisecondsSince1970, incident.resolvedBy,
                incident.mergedInto, incident.updatedAt.millisecondsSince1970, incident.id,
            ]
        )
    }

    /// The incident with what its links and updates say now.
    static func summary(_ db: Database, _ incident: Incident) throws -> IncidentSummary {
        let id = incident.id
        let totals = try Row.fetchOne(
            db,
            sql: """
                SELECT COUNT(*), COALESCE(SUM(q.state <> 'resolved'), 0), MIN(q.created_at), MAX(q.created_at)
                FROM incident_questions iq JOIN questions q ON q.id = iq.question_id WHERE iq.incident_id = ?
                """,
            arguments: [id]
        )
        func counts(_ column: String) throws -> [String: Int] {
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT q.\(column), COUNT(*) FROM incident_questions iq JOIN questions q ON q.id = iq.question_id
                    WHERE iq.incident_id = ? GROUP BY q.\(column)
                    """,
                arguments: [id]
            ) {
                counts[row[0]] = row[1]
            }
            return counts
        }
        return IncidentSummary(
            incident: incident, questionCount: totals?[0] ?? 0, openQuestions: totals?[1] ?? 0,
            topics: try counts("topic"), languages: try counts("language"),
            firstSeenAt: StoredValue.date(totals?[2]), lastSeenAt: StoredValue.date(totals?[3]),
            sampleQuestionIds: try String.fetchAll(
                db,
                sql: "SELECT question_id FROM incident_questions WHERE incident_id = ? ORDER BY question_id LIMIT 5",
                arguments: [id]
            ),
            latestUpdate: try latestUpdate(db, id)
        )
    }
}
