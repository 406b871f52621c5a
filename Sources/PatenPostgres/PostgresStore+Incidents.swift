import Foundation
import PatenCore
import PostgresNIO

// Signatures, surges and incidents on PostgreSQL. Intake locks the new signature's band keys (transaction-scoped
// advisory locks, in key order) before it looks for similar questions, so two similar questions arriving at two
// instances are grouped one after the other; a group about to open an incident is locked too, so only one opens.
// Incident commands lock the incident's row, then its questions' rows in id order. No rule lives here.

extension Incident {
    static let pgColumns = """
        id, state, title, top_terms, observed, expected, probability, window_seconds, anchor_question_id, opened_at, \
        resolved_at, resolved_by, merged_into, updated_at
        """

    init(pg row: PostgresRow) throws {
        let row = row.makeRandomAccess()
        self.init(
            id: try row.value("id"), state: try row.decoded("state", as: IncidentState.self), title: try row.value("title"),
            topTerms: SimilaritySignature.terms(stored: try row.value("top_terms")),
            observed: try row.value("observed", as: Int.self), expected: try row.value("expected", as: Double.self),
            probability: try row.value("probability", as: Double.self),
            window: TimeInterval(try row.value("window_seconds", as: Int.self)),
            anchorQuestionId: try row.value("anchor_question_id"), openedAt: try row.date("opened_at"),
            resolvedAt: try row.optionalDate("resolved_at"), resolvedBy: try row.value("resolved_by", as: String?.self),
            mergedInto: try row.value("merged_into", as: String?.self), updatedAt: try row.date("updated_at")
        )
    }
}

extension IncidentUpdate {
    static let pgColumns = "id, incident_id, kind, body, created_by, created_at"

    init(pg row: PostgresRow) throws {
        let row = row.makeRandomAccess()
        self.init(
            id: try row.value("id"), incidentId: try row.value("incident_id"), kind: try row.decoded("kind", as: Kind.self),
            body: try row.value("body"), createdBy: try row.value("created_by"), createdAt: try row.date("created_at")
        )
    }
}

extension PostgresStore {
    /// The advisory-lock class of signature bands and of groups (the first key of `pg_advisory_xact_lock(int, int)`).
    static let bandLockClass: Int32 = 0x7061_0001
    static let groupLockClass: Int32 = 0x7061_0002

    // MARK: Intake

    public func apply(
        intake surge: SurgeNeeds?, _ decide: @escaping @Sendable (SurgeSnapshot) -> QuestionChange
    ) async throws -> AppliedChange {
        try await transaction { connection in
            let snapshot = try await surge.asyncMap { try await self.surgeSnapshot(connection, $0) } ?? SurgeSnapshot()
            return try await self.apply(connection, decide(snapshot))
        }
    }

    /// What intake's surge rules read, loaded step by step as `QuestionChangeStore.apply(intake:_:)` describes.
    func surgeSnapshot(_ connection: PostgresConnection, _ needs: SurgeNeeds) async throws -> SurgeSnapshot {
        var snapshot = SurgeSnapshot()
        guard needs.looks else { return snapshot }
        let keys = Array(Set(needs.signature.bands.map { Int32(truncatingIfNeeded: $0 ^ ($0 >> 32)) })).sorted()
        try await connection.query(
            "SELECT pg_advisory_xact_lock(\(Self.bandLockClass), k) FROM unnest(\(keys)::int4[]) AS k", logger: logger
        )
        snapshot.recent = try await matches(
            connection, bands: needs.signature.bands, from: needs.horizonStart, to: needs.now,
            perBand: SurgeRules.recentPerBand
        )
        switch SurgeRules.plan(needs, recent: snapshot.recent) {
        case .alone:
            return snapshot
        case .join(let incidentId):
            snapshot.join = try await join(connection, incidentId)
            return snapshot
        case .groups(let groups):
            // One intake at a time reads and grows these groups: one about to open an incident waits for one joining
            // them and then links it, and one joining them after an opening sees the incident and joins it.
            let groupKeys = Array(
                Set(groups.map { Int32(truncatingIfNeeded: SimilaritySignature.fnv1a(Array($0.utf8))) })
            ).sorted()
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(Self.groupLockClass), k) FROM unnest(\(groupKeys)::int4[]) AS k",
                logger: logger
            )
            if let incidentId = try await openIncident(connection, groups, since: needs.horizonStart) {
                snapshot.join = try await join(connection, incidentId)
                return snapshot
            }
            snapshot.groupCount =
                try await connection.query(
                    """
                    SELECT COUNT(DISTINCT (q.channel, q.customer_id))
                    FROM question_signatures s JOIN questions q ON q.id = s.question_id
                    WHERE s.group_id = ANY(\(groups)) AND s.created_at >= \(needs.windowStart.millisecondsSince1970)
                    """,
                    logger: logger
                ).first { try $0.decode(Int.self) } ?? 0
            guard SurgeRules.largeEnough(needs, groupCount: snapshot.groupCount) else { return snapshot }
            snapshot.members = try await members(connection, groups, since: needs.windowStart)
            let bands = SurgeRules.baselineBands(needs, members: snapshot.members)
            var baseline: [[SignatureMatch]] = []
            for window in SurgeRules.baselineWindows(needs) {
                baseline.append(try await pastMatches(connection, bands: bands, from: window.start, to: window.end))
            }
            snapshot.baseline = baseline
            let verdict = SurgeRules.verdict(needs, members: snapshot.members, baseline: baseline)
            if verdict.isSurge { snapshot.members = try await members(connection, groups, since: needs.horizonStart) }
            return snapshot
        }
    }

    /// Signatures made from `from` to `to` that share one of the bands (the newest `perBand` of each band), with the
    /// open incident each is linked to: one indexed range per band, in one statement.
    func matches(
        _ connection: PostgresConnection, bands: [Int64], from: Date, to: Date, perBand: Int
    ) async throws -> [SignatureMatch] {
        guard !bands.isEmpty else { return [] }
        return try await connection.query(
            """
            SELECT s.question_id, s.created_at, s.group_id, s.terms, i.id AS incident_id
            FROM (
                SELECT DISTINCT newest.question_id FROM unnest(\(bands)::bigint[]) AS k(band),
                LATERAL (
                    SELECT question_id FROM signature_bands WHERE band = k.band
                    AND created_at >= \(from.millisecondsSince1970) AND created_at <= \(to.millisecondsSince1970)
                    ORDER BY created_at DESC LIMIT \(perBand)
                ) newest
            ) candidates
            JOIN question_signatures s ON s.question_id = candidates.question_id
            LEFT JOIN incident_questions iq ON iq.question_id = s.question_id
            LEFT JOIN incidents i ON i.id = iq.incident_id AND i.state = 'open'
            """,
            logger: logger
        ).all { row in
            let row = row.makeRandomAccess()
            return SignatureMatch(
                questionId: try row.value("question_id"), createdAt: try row.date("created_at"),
                groupId: try row.value("group_id"), terms: SimilaritySignature.terms(stored: try row.value("terms")),
                incidentId: try row.value("incident_id", as: String?.self)
            )
        }
    }

    /// Signatures made from `from` to `to` (a past week's window) sharing one of the bands, at most
    /// `SurgeRules.baselineLimit`: one statement over the band index.
    func pastMatches(
        _ connection: PostgresConnection, bands: [Int64], from: Date, to: Date
    ) async throws
        -> [SignatureMatch]
    {
        guard !bands.isEmpty else { return [] }
        return try await connection.query(
            """
            SELECT question_id, created_at, group_id, terms FROM question_signatures WHERE question_id IN (
                SELECT DISTINCT question_id FROM signature_bands WHERE band = ANY(\(bands))
                AND created_at >= \(from.millisecondsSince1970) AND created_at <= \(to.millisecondsSince1970)
                LIMIT \(SurgeRules.baselineLimit)
            )
            """,
            logger: logger
        ).all { row in
            let row = row.makeRandomAccess()
            return SignatureMatch(
                questionId: try row.value("question_id"), createdAt: try row.date("created_at"),
                groupId: try row.value("group_id"), terms: SimilaritySignature.terms(stored: try row.value("terms"))
            )
        }
    }

    /// The open incident one of the groups' questions asked since `since` is linked to, if any (the newest such link).
    func openIncident(_ connection: PostgresConnection, _ groups: [String], since: Date) async throws -> String? {
        try await connection.query(
            """
            SELECT i.id FROM question_signatures s
            JOIN incident_questions iq ON iq.question_id = s.question_id
            JOIN incidents i ON i.id = iq.incident_id AND i.state = 'open'
            WHERE s.group_id = ANY(\(groups)) AND s.created_at >= \(since.millisecondsSince1970)
            ORDER BY s.created_at DESC, s.question_id DESC LIMIT 1
            """,
            logger: logger
        ).first { try $0.decode(String.self) }
    }

    /// The groups' questions asked since `since`, newest first (at most `SurgeRules.membersLimit`), with their
    /// incidents.
    func members(_ connection: PostgresConnection, _ groups: [String], since: Date) async throws -> [GroupMember] {
        try await connection.query(
            """
            SELECT \(unescaped: Self.qualified(Question.pgColumns)), s.terms AS signature_terms,
            s.bands AS signature_bands, iq.incident_id AS link_incident, i.state AS link_state
            FROM question_signatures s JOIN questions q ON q.id = s.question_id
            LEFT JOIN incident_questions iq ON iq.question_id = s.question_id
            LEFT JOIN incidents i ON i.id = iq.incident_id
            WHERE s.group_id = ANY(\(groups)) AND s.created_at >= \(since.millisecondsSince1970)
            ORDER BY s.created_at DESC, s.question_id DESC LIMIT \(SurgeRules.membersLimit)
            """,
            logger: logger
        ).all { row in
            let question = try Question(pg: row)
            let row = row.makeRandomAccess()
            return GroupMember(
                question: question, terms: SimilaritySignature.terms(stored: try row.value("signature_terms")),
                bands: try row.value("signature_bands", as: [Int64].self),
                incidentId: try row.value("link_incident", as: String?.self),
                incidentOpen: try row.value("link_state", as: String?.self) == IncidentState.open.rawValue
            )
        }
    }

    /// The open incident a question joins (its row shared-locked, so it is not resolved meanwhile), with its latest
    /// update and that update's author.
    func join(_ connection: PostgresConnection, _ incidentId: String) async throws -> IncidentJoin? {
        guard
            let incident = try await connection.query(
                """
                SELECT \(unescaped: Incident.pgColumns) FROM incidents WHERE id = \(incidentId) AND state = 'open'
                FOR SHARE
                """,
                logger: logger
            ).first(Incident.init(pg:))
        else { return nil }
        let update = try await latestUpdate(connection, incidentId)
        var author: Helper?
        if let update {
            author = try await connection.query(
                "SELECT \(unescaped: Helper.pgColumns) FROM helpers WHERE id = \(update.createdBy)", logger: logger
            ).first(Helper.init(pg:))
        }
        return IncidentJoin(incident: incident, latestUpdate: update, author: author)
    }

    func latestUpdate(_ connection: PostgresConnection, _ incidentId: String) async throws -> IncidentUpdate? {
        try await connection.query(
            """
            SELECT \(unescaped: IncidentUpdate.pgColumns) FROM incident_updates WHERE incident_id = \(incidentId)
            ORDER BY created_at DESC, id DESC LIMIT 1
            """,
            logger: logger
        ).first(IncidentUpdate.init(pg:))
    }

    // MARK: Effects

    func applyIncidentEffect(
        _ connection: PostgresConnection, _ effect: QuestionEffect, questionId: String, at now: Date
    ) async throws {
        switch effect {
        case .signature(let groupId, let signature, let keepUntil):
            let created = now.millisecondsSince1970
            // The signature and its 32 bands in one statement.
            try await connection.query(
                """
                WITH signature AS (
                    INSERT INTO question_signatures (question_id, group_id, created_at, keep_until, terms, bands)
                    VALUES (\(questionId), \(groupId), \(created), \(keepUntil.millisecondsSince1970),
                    \(signature.storedTerms), \(signature.bands))
                )
                INSERT INTO signature_bands (band, created_at, question_id)
                SELECT band, \(created), \(questionId) FROM unnest(\(signature.bands)::bigint[]) AS band
                """,
                logger: logger
            )
        case .keepSignature(let until):
            try await connection.query(
                """
                UPDATE question_signatures SET keep_until = GREATEST(keep_until, \(until.millisecondsSince1970))
                WHERE question_id = \(questionId)
                """,
                logger: logger
            )
        case .openIncident(let incident):
            try await connection.query(
                """
                INSERT INTO incidents (\(unescaped: Incident.pgColumns)) VALUES (\(incident.id), \(incident.state.rawValue),
                \(incident.title), \(incident.topTerms.joined(separator: " ")), \(incident.observed), \(incident.expected),
                \(incident.probability), \(Int(incident.window)), \(incident.anchorQuestionId),
                \(incident.openedAt.millisecondsSince1970), \(incident.resolvedAt?.millisecondsSince1970),
                \(incident.resolvedBy), \(incident.mergedInto), \(incident.updatedAt.millisecondsSince1970))
                """,
                logger: logger
            )
        case .linkIncident(let link):
            try await connection.query(
                """
                INSERT INTO incident_questions (question_id, incident_id, kind, linked_by, linked_at)
                VALUES (\(link.questionId), \(link.incidentId), \(link.kind.rawValue), \(link.linkedBy),
                \(link.linkedAt.millisecondsSince1970)) ON CONFLICT (question_id) DO NOTHING
                """,
                logger: logger
            )
        case .unlinkIncident(let id):
            try await connection.query("DELETE FROM incident_questions WHERE question_id = \(id)", logger: logger)
        default:
            preconditionFailure("not an incident effect: \(effect)")
        }
    }
}

extension PostgresStore: IncidentRepository {
    public func applyIncident(
        id: String, needs: IncidentNeeds, at now: Date,
        _ decide: @escaping @Sendable (IncidentSnapshot) throws -> IncidentChange
    ) async throws -> IncidentSummary {
        try await transaction { connection in
            // Incidents in id order (a merge locks two), then questions in id order.
            var incidents: [String: Incident] = [:]
            for incidentId in Set([id] + (needs.other.map { [$0] } ?? [])).sorted() {
                guard
                    let incident = try await connection.query(
                        "SELECT \(unescaped: Incident.pgColumns) FROM incidents WHERE id = \(incidentId) FOR UPDATE",
                        logger: self.logger
                    ).first(Incident.init(pg:))
                else { throw PatenError.notFound("incident", id: incidentId) }
                incidents[incidentId] = incident
            }
            guard let incident = incidents[id] else { throw PatenError.notFound("incident", id: id) }
            var snapshot = IncidentSnapshot(incident: incident, latestUpdate: try await self.latestUpdate(connection, id))
            snapshot.other = needs.other.flatMap { incidents[$0] }
            snapshot.anchor = try await connection.query(
                "SELECT \(unescaped: Question.pgColumns) FROM questions WHERE id = \(incident.anchorQuestionId)",
                logger: self.logger
            ).first(Question.init(pg:))
            var questionIds: [String] = []
            if needs.questions != nil {
                // Resolved questions get nothing an incident sends, so they are not loaded (nor locked).
                questionIds = try await connection.query(
                    """
                    SELECT iq.question_id FROM incident_questions iq JOIN questions q ON q.id = iq.question_id
                    WHERE iq.incident_id = \(id) AND q.state <> 'resolved' ORDER BY iq.question_id
                    """,
                    logger: self.logger
                ).all { try $0.decode(String.self) }
            }
            if let target = needs.target, !questionIds.contains(target) {
                questionIds = (questionIds + [target]).sorted()
            }
            for questionId in questionIds {
                let questionNeeds = questionId == needs.target ? SnapshotNeeds() : (needs.questions ?? SnapshotNeeds())
                let loaded = try await self.snapshot(connection, questionId, needs: questionNeeds, at: now)
                if questionId == needs.target {
                    snapshot.target = loaded
                    snapshot.targetLink = try await self.link(connection, questionId)
                }
                if needs.questions != nil, questionId != needs.target || snapshot.targetLink?.incidentId == id {
                    snapshot.questions.append(loaded)
                }
            }
            let change = try decide(snapshot)
            try await self.saveIncident(connection, change.incident)
            if let other = change.other { try await self.saveIncident(connection, other) }
            if let update = change.update {
                try await connection.query(
                    """
                    INSERT INTO incident_updates (\(unescaped: IncidentUpdate.pgColumns)) VALUES (\(update.id),
                    \(update.incidentId), \(update.kind.rawValue), \(update.body), \(update.createdBy),
                    \(update.createdAt.millisecondsSince1970))
                    """,
                    logger: self.logger
                )
            }
            if change.moveLinks, let other = change.other {
                try await connection.query(
                    "UPDATE incident_questions SET incident_id = \(change.incident.id) WHERE incident_id = \(other.id)",
                    logger: self.logger
                )
            }
            for question in change.questions { _ = try await self.apply(connection, question) }
            return try await self.summary(connection, change.incident)
        }
    }

    public func incident(id: String) async throws -> IncidentSummary? {
        try await client.withConnection { connection in
            guard
                let incident = try await connection.query(
                    "SELECT \(unescaped: Incident.pgColumns) FROM incidents WHERE id = \(id)", logger: self.logger
                ).first(Incident.init(pg:))
            else { return nil }
            return try await self.summary(connection, incident)
        }
    }

    public func incidents(state: IncidentState?, after cursor: String?, limit: Int) async throws -> IncidentPage {
        let start = try IncidentCursor(cursor)
        return try await client.withConnection { connection in
            let openedAt = start?.openedAt ?? Int64.max
            let lastId = start?.id ?? ""
            let incidents = try await connection.query(
                """
                SELECT \(unescaped: Incident.pgColumns) FROM incidents
                WHERE (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
                AND (\(start == nil) OR opened_at < \(openedAt) OR (opened_at = \(openedAt) AND id < \(lastId)))
                ORDER BY opened_at DESC, id DESC LIMIT \(limit + 1)
                """,
                logger: self.logger
            ).all(Incident.init(pg:))
            let page = Array(incidents.prefix(limit))
            var summaries: [IncidentSummary] = []
            for incident in page { summaries.append(try await self.summary(connection, incident)) }
            return IncidentPage(
                incidents: summaries,
                next: incidents.count > limit ? page.last.map { IncidentCursor(of: $0).text } : nil
            )
        }
    }

    public func incidentUpdates(id: String, limit: Int) async throws -> [IncidentUpdate] {
        try await client.query(
            """
            SELECT \(unescaped: IncidentUpdate.pgColumns) FROM (
                SELECT \(unescaped: IncidentUpdate.pgColumns) FROM incident_updates WHERE incident_id = \(id)
                ORDER BY created_at DESC, id DESC LIMIT \(limit)
            ) latest ORDER BY created_at, id
            """,
            logger: logger
        ).all(IncidentUpdate.init(pg:))
    }

    public func incidentQuestions(id: String, after questionId: String?, limit: Int) async throws -> [IncidentQuestion] {
        try await client.query(
            """
            SELECT \(unescaped: Self.qualified(Question.pgColumns)), iq.incident_id, iq.kind, iq.linked_by, iq.linked_at
            FROM incident_questions iq JOIN questions q ON q.id = iq.question_id
            WHERE iq.incident_id = \(id) AND iq.question_id > \(questionId ?? "") ORDER BY iq.question_id LIMIT \(limit)
            """,
            logger: logger
        ).all { row in
            let question = try Question(pg: row)
            let row = row.makeRandomAccess()
            return IncidentQuestion(
                question: question,
                link: IncidentLink(
                    questionId: question.id, incidentId: try row.value("incident_id"),
                    kind: try row.decoded("kind", as: IncidentLinkKind.self),
                    linkedBy: try row.value("linked_by", as: String?.self), linkedAt: try row.date("linked_at")
                )
            )
        }
    }

    public func incidentBriefs(questionIds: [String]) async throws -> [String: IncidentBrief] {
        guard !questionIds.isEmpty else { return [:] }
        return try await client.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT iq.question_id, i.id, i.title, i.state FROM incident_questions iq
                JOIN incidents i ON i.id = iq.incident_id WHERE iq.question_id = ANY(\(questionIds))
                """,
                logger: self.logger
            ).all { try $0.decode((String, String, String, String).self) }
            var updates: [String: IncidentUpdate?] = [:]
            var briefs: [String: IncidentBrief] = [:]
            for (questionId, incidentId, title, state) in rows {
                if updates[incidentId] == nil {
                    updates[incidentId] = .some(try await self.latestUpdate(connection, incidentId))
                }
                guard let state = IncidentState(rawValue: state) else { continue }
                briefs[questionId] = IncidentBrief(
                    id: incidentId, title: title, state: state, latestUpdate: updates[incidentId] ?? nil
                )
            }
            return briefs
        }
    }

    public func signature(questionId: String) async throws -> SimilaritySignature? {
        try await client.query(
            "SELECT terms, bands FROM question_signatures WHERE question_id = \(questionId)", logger: logger
        ).first { row in
            let (terms, bands) = try row.decode((String, [Int64]).self)
            return SimilaritySignature(terms: SimilaritySignature.terms(stored: terms), bands: bands)
        }
    }

    public func solvedCandidates(
        bands: [Int64], excluding questionId: String, limit: Int
    ) async throws
        -> [(id: String, terms: [String])]
    {
        guard !bands.isEmpty else { return [] }
        return try await client.query(
            """
            SELECT s.question_id, s.terms FROM (
                SELECT newest.question_id, COUNT(*) AS shared FROM unnest(\(bands)::bigint[]) AS k(band),
                LATERAL (
                    SELECT question_id FROM signature_bands WHERE band = k.band
                    ORDER BY created_at DESC LIMIT \(SurgeRules.solvedPerBand)
                ) newest
                WHERE newest.question_id <> \(questionId) GROUP BY newest.question_id
            ) b
            JOIN question_signatures s ON s.question_id = b.question_id
            JOIN questions q ON q.id = b.question_id
            WHERE q.state = 'resolved' AND q.answer_id IS NOT NULL
            ORDER BY b.shared DESC, b.question_id DESC LIMIT \(limit)
            """,
            logger: logger
        ).all { row in
            let (id, terms) = try row.decode((String, String).self)
            return (id: id, terms: SimilaritySignature.terms(stored: terms))
        }
    }

    public func solvedAnswers(questionIds: [String]) async throws -> [String: (Question, Message?, String?)] {
        guard !questionIds.isEmpty else { return [:] }
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.qualified(Question.pgColumns)), m.id AS answer_id, m.author_kind AS answer_author,
            m.helper_id AS answer_helper, m.body AS answer_body, m.created_at AS answer_at, h.handle AS answer_handle
            FROM questions q LEFT JOIN messages m ON m.id = q.answer_id AND m.question_id = q.id
            LEFT JOIN helpers h ON h.id = m.helper_id
            WHERE q.id = ANY(\(questionIds))
            """,
            logger: logger
        ).all { row -> (Question, Message?, String?) in
            let question = try Question(pg: row)
            let row = row.makeRandomAccess()
            var message: Message?
            if let id = try row.value("answer_id", as: String?.self) {
                message = Message(
                    id: id, questionId: question.id, authorKind: try row.decoded("answer_author", as: AuthorKind.self),
                    helperId: try row.value("answer_helper", as: String?.self), body: try row.value("answer_body"),
                    createdAt: try row.date("answer_at")
                )
            }
            return (question, message, try row.value("answer_handle", as: String?.self))
        }
        return Dictionary(rows.map { ($0.0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func purgeSignatures(at now: Date, limit: Int) async throws -> Int {
        let ms = now.millisecondsSince1970
        return try await transaction { connection in
            // What is due, taken with SKIP LOCKED so two instances purge different rows; the bands are found by the
            // keys the signature holds, so they need no index on their age.
            let due = try await connection.query(
                """
                DELETE FROM question_signatures WHERE question_id IN (
                    SELECT question_id FROM question_signatures WHERE keep_until < \(ms)
                    ORDER BY keep_until LIMIT \(limit) FOR UPDATE SKIP LOCKED
                ) RETURNING question_id, created_at, bands
                """,
                logger: self.logger
            ).all { try $0.decode((String, Int64, [Int64]).self) }
            for (id, created, bands) in due {
                try await connection.query(
                    """
                    DELETE FROM signature_bands WHERE band = ANY(\(bands)) AND created_at = \(created)
                    AND question_id = \(id)
                    """,
                    logger: self.logger
                )
            }
            return due.count
        }
    }

    // MARK: Loading

    func link(_ connection: PostgresConnection, _ questionId: String) async throws -> IncidentLink? {
        try await connection.query(
            """
            SELECT question_id, incident_id, kind, linked_by, linked_at FROM incident_questions
            WHERE question_id = \(questionId)
            """,
            logger: logger
        ).first { row in
            let row = row.makeRandomAccess()
            return IncidentLink(
                questionId: try row.value("question_id"), incidentId: try row.value("incident_id"),
                kind: try row.decoded("kind", as: IncidentLinkKind.self),
                linkedBy: try row.value("linked_by", as: String?.self), linkedAt: try row.date("linked_at")
            )
        }
    }

    func saveIncident(_ connection: PostgresConnection, _ incident: Incident) async throws {
        try await connection.query(
            """
            UPDATE incidents SET state = \(incident.state.rawValue), title = \(incident.title),
            resolved_at = \(incident.resolvedAt?.millisecondsSince1970), resolved_by = \(incident.resolvedBy),
            merged_into = \(incident.mergedInto), updated_at = \(incident.updatedAt.millisecondsSince1970)
            WHERE id = \(incident.id)
            """,
            logger: logger
        )
    }

    /// The incident with what its links and updates say now.
    func summary(_ connection: PostgresConnection, _ incident: Incident) async throws -> IncidentSummary {
        let id = incident.id
        let totals = try await connection.query(
            """
            SELECT COUNT(*)::bigint, COUNT(*) FILTER (WHERE q.state <> 'resolved')::bigint, MIN(q.created_at),
            MAX(q.created_at)
            FROM incident_questions iq JOIN questions q ON q.id = iq.question_id WHERE iq.incident_id = \(id)
            """,
            logger: logger
        ).first { row -> (Int64, Int64, Int64?, Int64?) in
            let cells = row.makeRandomAccess()
            return (
                try cells[0].decode(Int64.self), try cells[1].decode(Int64.self), try cells[2].decode(Int64?.self),
                try cells[3].decode(Int64?.self)
            )
        }
        let (count, open, first, last) = totals ?? (0, 0, nil, nil)
        var topics: [String: Int] = [:]
        var languages: [String: Int] = [:]
        for (kind, value, number) in try await connection.query(
            """
            SELECT 'topic', q.topic, COUNT(*)::bigint FROM incident_questions iq JOIN questions q ON q.id = iq.question_id
            WHERE iq.incident_id = \(id) GROUP BY q.topic
            UNION ALL
            SELECT 'language', q.language, COUNT(*)::bigint FROM incident_questions iq
            JOIN questions q ON q.id = iq.question_id WHERE iq.incident_id = \(id) GROUP BY q.language
            """,
            logger: logger
        ).all({ try $0.decode((String, String, Int64).self) }) {
            if kind == "topic" { topics[value] = Int(number) } else { languages[value] = Int(number) }
        }
        return IncidentSummary(
            incident: incident, questionCount: Int(count), openQuestions: Int(open), topics: topics,
            languages: languages, firstSeenAt: first.map(Date.init(millisecondsSince1970:)),
            lastSeenAt: last.map(Date.init(millisecondsSince1970:)),
            sampleQuestionIds: try await connection.query(
                "SELECT question_id FROM incident_questions WHERE incident_id = \(id) ORDER BY question_id LIMIT 5",
                logger: logger
            ).all { try $0.decode(String.self) },
            latestUpdate: try await latestUpdate(connection, id)
        )
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
