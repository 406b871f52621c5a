import Foundation
import GRDB
import PatenCore

// The volunteer programme on SQLite: a helper's standing as the rules read it, the ledger, grants, resuming,
// payouts and the reports. Points are booked by question changes (SQLiteStore+Changes); nothing here decides a rule.

extension SQLiteStore {
    /// The helper's standing, read in the caller's transaction (SQLite's one writer is the helper's lock).
    static func standing(
        _ db: Database, helperId: String, questionId: String?, needs: StandingNeeds, at now: Date
    ) throws -> HelperStanding? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT role, level, paused_at, resumed_at, time_zone, quiet_start, quiet_end, weekly_claims,
                    weekly_hours FROM helpers WHERE id = ?
                    """,
                arguments: [helperId]
            )
        else { return nil }
        let settings = try programmeSettings(row, offset: 1)
        var standing = HelperStanding(
            helperId: helperId, role: try StoredValue.decode(Role.self, row[0]), settings: settings
        )
        let nowMs = now.millisecondsSince1970
        // The budget's week is the programme's (the business-hours zone), not the helper's: a helper who could move
        // their own week by changing time zone could start a fresh one twice a week.
        let week = ProgrammeRules.weekStart(now, zone: needs.defaultTimeZone)
        if let row = try Row.fetchOne(
            db,
            sql: """
                SELECT COUNT(*), COALESCE(SUM(MAX(0, MIN(COALESCE(ended_at, expires_at), ?) - claimed_at)), 0)
                FROM claims WHERE helper_id = ? AND claimed_at >= ?
                """,
            arguments: [nowMs, helperId, week.millisecondsSince1970]
        ) {
            standing.claimsThisWeek = row[0]
            standing.claimedSecondsThisWeek = Double(row[1] as Int64) / 1000
        }
        for row in try Row.fetchAll(
            db, sql: "SELECT topic, granted FROM helper_topics WHERE helper_id = ?", arguments: [helperId]
        ) {
            standing.topics[row[0], default: TopicRecord()].granted = row[1]
        }
        switch needs.scope {
        case .access(let topicRecords):
            if topicRecords { try Self.topicRecords(db, helperId, into: &standing) }
            return standing
        case .full:
            try Self.topicRecords(db, helperId, into: &standing)
        }
        let capped = needs.cappedReasons.map(\.rawValue)
        let totals = try Row.fetchOne(
            db,
            sql: """
                SELECT COALESCE(SUM(CASE WHEN reason <> 'payout' THEN amount ELSE 0 END), 0), COALESCE(SUM(amount), 0),
                COALESCE(SUM(CASE WHEN at >= ? AND reason IN (\(placeholders(max(1, capped.count)))) THEN amount
                ELSE 0 END), 0)
                FROM points_ledger WHERE helper_id = ?
                """,
            arguments: StatementArguments(
                [ProgrammeRules.dayStart(now).millisecondsSince1970]
                    + (capped.isEmpty ? ["-"] : capped)
                    .map { $0 as (any DatabaseValueConvertible)? } + [helperId]
            )
        )
        standing.earned = totals?[0] ?? 0
        standing.balance = totals?[1] ?? 0
        standing.pointsToday = totals?[2] ?? 0
        if let questionId {
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT reason, SUM(amount) FROM points_ledger WHERE question_id = ? AND helper_id = ? GROUP BY reason
                    """,
                arguments: [questionId, helperId]
            ) {
                if let reason = PointReason(rawValue: row[0]) { standing.onQuestion[reason] = row[1] }
            }
        }
        standing.badges = Set(
            try String.fetchAll(db, sql: "SELECT badge_key FROM helper_badges WHERE helper_id = ?", arguments: [helperId])
        )
        let lowSince = ProgrammeRules.lowRatingsSince(needs, settings: settings)
        standing.lowRatings =
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM ratings WHERE helper_id = ? AND rated_at >= ? AND score <= ?",
                arguments: [helperId, lowSince.millisecondsSince1970, needs.lowRatingScore]
            ) ?? 0
        return standing
    }

    /// Each topic's accepted answers (and so the helper's accepted answers in all) and ratings.
    static func topicRecords(_ db: Database, _ helperId: String, into standing: inout HelperStanding) throws {
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT topic, COUNT(*) FROM questions WHERE credited_helper_id = ? AND state = 'resolved' GROUP BY topic
                """,
            arguments: [helperId]
        ) {
            standing.topics[row[0], default: TopicRecord()].solved = row[1]
            standing.accepted += row[1] as Int
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT q.topic, SUM(r.score), COUNT(*) FROM ratings r JOIN questions q ON q.id = r.question_id
                WHERE r.helper_id = ? AND r.rated_at IS NOT NULL GROUP BY q.topic
                """,
            arguments: [helperId]
        ) {
            standing.topics[row[0], default: TopicRecord()].ratingSum = row[1]
            standing.topics[row[0], default: TopicRecord()].ratingCount = row[2]
        }
    }

    /// Programme settings from a helpers row, starting at column `offset`: level, paused_at, resumed_at, time_zone,
    /// quiet_start, quiet_end, weekly_claims, weekly_hours.
    static func programmeSettings(_ row: Row, offset: Int) throws -> ProgrammeSettings {
        let start: Int? = row[offset + 4]
        let end: Int? = row[offset + 5]
        return ProgrammeSettings(
            level: row[offset], pausedAt: StoredValue.date(row[offset + 1]), resumedAt: StoredValue.date(row[offset + 2]),
            timeZone: row[offset + 3],
            quietHours: start.flatMap { start in end.map { QuietHours(start: start, end: $0) } },
            weeklyClaims: row[offset + 6], weeklyHours: row[offset + 7]
        )
    }

    static func insertLedgerEntry(_ db: Database, _ entry: LedgerEntry) throws {
        try db.run(
            sql: """
                INSERT INTO points_ledger (id, helper_id, amount, reason, question_id, topic, payout_id, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                entry.id, entry.helperId, entry.amount, entry.reason.rawValue, entry.questionId, entry.topic,
                entry.payoutId, entry.at.millisecondsSince1970,
            ]
        )
    }

    static func unknownHelper(_ id: String) -> PatenError { PatenError.notFound("helper", id: id) }
}

extension SQLiteStore: ProgrammeRepository {
    public func standing(helperId: String, needs: StandingNeeds, at now: Date) async throws -> HelperStanding? {
        try await pool.read { db in try Self.standing(db, helperId: helperId, questionId: nil, needs: needs, at: now) }
    }

    public func updateProgrammeSettings(
        helperId: String, at now: Date, _ change: @escaping @Sendable (inout ProgrammeSettings) throws -> Void
    ) async throws -> ProgrammeSettings {
        try await pool.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT level, paused_at, resumed_at, time_zone, quiet_start, quiet_end, weekly_claims,
                        weekly_hours FROM helpers WHERE id = ?
                        """,
                    arguments: [helperId]
                )
            else { throw Self.unknownHelper(helperId) }
            var settings = try Self.programmeSettings(row, offset: 0)
            try change(&settings)
            try db.run(
                sql: """
                    UPDATE helpers SET time_zone = ?, quiet_start = ?, quiet_end = ?, weekly_claims = ?, weekly_hours = ?,
                    updated_at = ? WHERE id = ?
                    """,
                arguments: [
                    settings.timeZone, settings.quietHours?.start, settings.quietHours?.end, settings.weeklyClaims,
                    settings.weeklyHours, now.millisecondsSince1970, helperId,
                ]
            )
            return settings
        }
    }

    public func setTopicAccess(
        helperId: String, topic: String, granted: Bool?, by actor: String, at now: Date
    ) async throws {
        try await pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM helpers WHERE id = ?", arguments: [helperId]) == true else {
                throw Self.unknownHelper(helperId)
            }
            if let granted {
                try db.run(
                    sql: """
                        INSERT INTO helper_topics (helper_id, topic, granted, set_by, set_at) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT (helper_id, topic) DO UPDATE SET granted = excluded.granted, set_by = excluded.set_by,
                        set_at = excluded.set_at
                        """,
                    arguments: [helperId, topic, granted, actor, now.millisecondsSince1970]
                )
            } else {
                try db.run(
                    sql: "DELETE FROM helper_topics WHERE helper_id = ? AND topic = ?", arguments: [helperId, topic]
                )
            }
        }
    }

    public func resumeHelper(id: String, by actor: String, note: String, at now: Date) async throws {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT paused_at FROM helpers WHERE id = ?", arguments: [id]) else {
                throw Self.unknownHelper(id)
            }
            guard (row[0] as Int64?) != nil else {
                throw PatenError.conflict("not_paused", "Helper \(id) is not paused.")
            }
            try db.run(
                sql: """
                    UPDATE helpers SET paused_at = NULL, resumed_at = ?, resumed_by = ?, resume_note = ?, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [now.millisecondsSince1970, actor, note, now.millisecondsSince1970, id]
            )
        }
    }

    public func ledger(
        helperId: String?, from: Date?, to: Date?, after: Int64, limit: Int
    ) async throws -> [LedgerRow] {
        var conditions = ["l.seq > ?"]
        var values: [(any DatabaseValueConvertible)?] = [after]
        if let helperId {
            conditions.append("l.helper_id = ?")
            values.append(helperId)
        }
        if let from {
            conditions.append("l.at >= ?")
            values.append(from.millisecondsSince1970)
        }
        if let to {
            conditions.append("l.at < ?")
            values.append(to.millisecondsSince1970)
        }
        values.append(limit)
        let arguments = StatementArguments(values)
        let sql = """
            SELECT l.seq, l.id, l.helper_id, l.amount, l.reason, l.question_id, l.topic, l.payout_id, l.at, h.handle
            FROM points_ledger l JOIN helpers h ON h.id = l.helper_id
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY l.seq LIMIT ?
            """
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                LedgerRow(
                    seq: row[0],
                    entry: LedgerEntry(
                        id: row[1], helperId: row[2], amount: row[3], reason: try StoredValue.decode(PointReason.self, row[4]),
                        questionId: row[5], topic: row[6], payoutId: row[7], at: Date(millisecondsSince1970: row[8])
                    ),
                    handle: row[9]
                )
            }
        }
    }

    public func leaderboard(since: Date?, topic: String?, limit: Int) async throws -> [LeaderboardEntry] {
        var conditions = ["l.reason <> 'payout'", "h.role = 'volunteer'", "h.active = 1"]
        var values: [(any DatabaseValueConvertible)?] = []
        if let since {
            conditions.append("l.at >= ?")
            values.append(since.millisecondsSince1970)
        }
        if let topic {
            conditions.append("l.topic = ?")
            values.append(topic)
        }
        values.append(limit)
        let arguments = StatementArguments(values)
        let sql = """
            SELECT h.id, h.handle, h.level, SUM(l.amount) AS points FROM points_ledger l JOIN helpers h ON h.id = l.helper_id
            WHERE \(conditions.joined(separator: " AND ")) GROUP BY h.id, h.handle, h.level HAVING SUM(l.amount) > 0
            ORDER BY points DESC, h.handle LIMIT ?
            """
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                LeaderboardEntry(helperId: row[0], handle: row[1], level: row[2], points: row[3])
            }
        }
    }

    public func createPayout(
        id: String, periodEnd: Date, by actor: String, programme: Programme, at now: Date
    ) async throws -> (payout: Payout, created: Bool) {
        let periodMs = periodEnd.millisecondsSince1970
        let existing = try await pool.write { db -> String? in
            if let booked = try String.fetchOne(
                db, sql: "SELECT id FROM payouts WHERE period_end = ?", arguments: [periodMs]
            ) {
                return booked
            }
            try ProgrammeReports.checkAfterBooked(
                periodEnd,
                latest: try Int64.fetchOne(db, sql: "SELECT MAX(period_end) FROM payouts").map(Date.init(millisecondsSince1970:))
            )
            try db.run(
                sql: """
                    INSERT INTO payouts (id, period_end, created_at, created_by, value_per_point, currency, min_points)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    id, periodMs, now.millisecondsSince1970, actor, programme.valuePerPoint, programme.currency,
                    programme.payoutMinPoints,
                ]
            )
            // What each helper earned before the period's end, less everything paid out already.
            let balances = try Row.fetchAll(
                db,
                sql: """
                    SELECT l.helper_id, h.handle, SUM(l.amount) FROM points_ledger l JOIN helpers h ON h.id = l.helper_id
                    WHERE l.reason = 'payout' OR l.at < ? GROUP BY l.helper_id, h.handle
                    """,
                arguments: [periodMs]
            ).map { PayoutLine(helperId: $0[0], handle: $0[1], points: $0[2]) }
            for line in ProgrammeReports.payoutLines(balances, programme: programme) {
                try Self.insertLedgerEntry(
                    db,
                    LedgerEntry(
                        id: "\(id)_\(line.helperId)", helperId: line.helperId, amount: -line.points, reason: .payout,
                        questionId: nil, topic: nil, payoutId: id, at: now
                    )
                )
            }
            return nil
        }
        guard let payout = try await payout(id: existing ?? id) else {
            throw PatenError(.unavailable, code: "payout_missing", message: "The payout was not stored.")
        }
        return (payout, existing == nil)
    }

    public func payout(id: String) async throws -> Payout? {
        try await pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT id, period_end, created_at, created_by, value_per_point, currency, min_points FROM payouts
                        WHERE id = ?
                        """,
                    arguments: [id]
                )
            else { return nil }
            let lines = try Row.fetchAll(
                db,
                sql: """
                    SELECT l.helper_id, h.handle, -l.amount FROM points_ledger l JOIN helpers h ON h.id = l.helper_id
                    WHERE l.payout_id = ? ORDER BY h.handle
                    """,
                arguments: [id]
            ).map { PayoutLine(helperId: $0[0], handle: $0[1], points: $0[2]) }
            return Payout(
                id: row[0], periodEnd: Date(millisecondsSince1970: row[1]), createdAt: Date(millisecondsSince1970: row[2]),
                createdBy: row[3], valuePerPoint: row[4], currency: row[5], minPoints: row[6], lines: lines
            )
        }
    }

    public func earnedPoints(helperId: String, since: Date?) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(
                db,
                sql: "SELECT COALESCE(SUM(amount), 0) FROM points_ledger WHERE helper_id = ? AND reason <> 'payout' AND at >= ?",
                arguments: [helperId, since?.millisecondsSince1970 ?? Int64.min]
            ) ?? 0
        }
    }

    public func latestPayoutPeriodEnd() async throws -> Date? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(period_end) FROM payouts").map(Date.init(millisecondsSince1970:))
        }
    }

    public func programmeTallies(from: Date, to: Date) async throws -> [ProgrammeMonthTally] {
        let range: StatementArguments = [from.millisecondsSince1970, to.millisecondsSince1970]
        let month = "strftime('%Y-%m', %@ / 1000, 'unixepoch')"
        return try await pool.read { db in
            var tallies: [String: ProgrammeMonthTally] = [:]
            func tally(_ key: String) -> ProgrammeMonthTally { tallies[key] ?? ProgrammeMonthTally(month: key) }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT \(month.replacingOccurrences(of: "%@", with: "q.resolved_at")) AS m, COUNT(*),
                    SUM(CASE WHEN q.staff_replies = 0 AND h.role = 'volunteer' THEN 1 ELSE 0 END)
                    FROM questions q LEFT JOIN helpers h ON h.id = q.credited_helper_id
                    WHERE q.state = 'resolved' AND q.resolved_at >= ? AND q.resolved_at < ? GROUP BY m
                    """,
                arguments: range
            ) {
                var entry = tally(row[0])
                entry.resolved = row[1]
                entry.resolvedWithoutStaff = row[2]
                tallies[row[0]] = entry
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT \(month.replacingOccurrences(of: "%@", with: "rated_at")) AS m, helper_tier, COUNT(*),
                    SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END)
                    FROM ratings WHERE rated_at >= ? AND rated_at < ? AND helper_tier IS NOT NULL GROUP BY m, helper_tier
                    """,
                arguments: range
            ) {
                var entry = tally(row[0])
                if (row[1] as String) == Tier.volunteer.rawValue {
                    entry.volunteerRatings = row[2]
                    entry.volunteerSatisfied = row[3]
                } else {
                    entry.staffRatings = row[2]
                    entry.staffSatisfied = row[3]
                }
                tallies[row[0]] = entry
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT \(month.replacingOccurrences(of: "%@", with: "at")) AS m, -SUM(amount) FROM points_ledger
                    WHERE reason = 'payout' AND at >= ? AND at < ? GROUP BY m
                    """,
                arguments: range
            ) {
                var entry = tally(row[0])
                entry.pointsPaid = row[1]
                tallies[row[0]] = entry
            }
            return tallies.values.sorted { $0.month < $1.month }
        }
    }

    public func volunteerCounts() async throws -> (byLevel: [String?: Int], paused: Int) {
        try await pool.read { db in
            var byLevel: [String?: Int] = [:]
            var paused = 0
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT level, COUNT(*), SUM(CASE WHEN paused_at IS NOT NULL THEN 1 ELSE 0 END) FROM helpers
                    WHERE role = 'volunteer' AND active = 1 GROUP BY level
                    """
            ) {
                byLevel[row[0] as String?] = row[1]
                paused += row[2] as Int
            }
            return (byLevel, paused)
        }
    }
}
