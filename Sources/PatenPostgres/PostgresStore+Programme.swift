import Foundation
import PatenCore
import PostgresNIO

// The volunteer programme on PostgreSQL: a helper's standing as the rules read it, the ledger, grants, resuming,
// payouts and the reports. Points are booked by question changes (PostgresStore+Changes), which load the standing
// under the helper's row lock, so two instances never both spend the last of a daily cap or move a level twice.
// Nothing here decides a rule.

extension PostgresStore {
    static let settingsColumns =
        "level, paused_at, resumed_at, time_zone, quiet_start, quiet_end, weekly_claims, weekly_hours"

    /// Programme settings from a row holding `settingsColumns`.
    static func programmeSettings(_ row: PostgresRandomAccessRow) throws -> ProgrammeSettings {
        let start = try row.value("quiet_start", as: Int?.self)
        let end = try row.value("quiet_end", as: Int?.self)
        return ProgrammeSettings(
            level: try row.value("level", as: String?.self), pausedAt: try row.optionalDate("paused_at"),
            resumedAt: try row.optionalDate("resumed_at"), timeZone: try row.value("time_zone", as: String?.self),
            quietHours: start.flatMap { start in end.map { QuietHours(start: start, end: $0) } },
            weeklyClaims: try row.value("weekly_claims", as: Int?.self),
            weeklyHours: try row.value("weekly_hours", as: Double?.self)
        )
    }

    /// The helper's standing; with `locking`, under the helper's row lock until the transaction ends.
    func standing(
        _ connection: PostgresConnection, helperId: String, questionId: String?, needs: StandingNeeds, at now: Date,
        locking: Bool
    ) async throws -> HelperStanding? {
        guard
            let row = try await connection.query(
                """
                SELECT role, \(unescaped: Self.settingsColumns) FROM helpers WHERE id = \(helperId)
                \(unescaped: locking ? "FOR NO KEY UPDATE" : "")
                """,
                logger: logger
            ).first({ $0.makeRandomAccess() })
        else { return nil }
        let settings = try Self.programmeSettings(row)
        var standing = HelperStanding(
            helperId: helperId, role: try row.decoded("role", as: Role.self), settings: settings
        )
        // The programme's week, not the helper's (see SQLiteStore.standing).
        let week = ProgrammeRules.weekStart(now, zone: needs.defaultTimeZone)
        if let (claims, held) = try await connection.query(
            """
            SELECT COUNT(*), COALESCE(SUM(GREATEST(0, LEAST(COALESCE(ended_at, expires_at), \(now.millisecondsSince1970))
            - claimed_at)), 0)::bigint FROM claims WHERE helper_id = \(helperId)
            AND claimed_at >= \(week.millisecondsSince1970)
            """,
            logger: logger
        ).first({ try $0.decode((Int, Int64).self) }) {
            standing.claimsThisWeek = claims
            standing.claimedSecondsThisWeek = Double(held) / 1000
        }
        for (topic, granted) in try await connection.query(
            "SELECT topic, granted FROM helper_topics WHERE helper_id = \(helperId)", logger: logger
        ).all({ try $0.decode((String, Bool).self) }) {
            standing.topics[topic, default: TopicRecord()].granted = granted
        }
        switch needs.scope {
        case .access(let topicRecords):
            if topicRecords { try await self.topicRecords(connection, helperId, into: &standing) }
            return standing
        case .full:
            try await self.topicRecords(connection, helperId, into: &standing)
        }
        let capped = needs.cappedReasons.map(\.rawValue)
        let day = ProgrammeRules.dayStart(now).millisecondsSince1970
        if let (earned, balance, today) = try await connection.query(
            """
            SELECT COALESCE(SUM(amount) FILTER (WHERE reason <> 'payout'), 0)::bigint, COALESCE(SUM(amount), 0)::bigint,
            COALESCE(SUM(amount) FILTER (WHERE at >= \(day) AND reason = ANY(\(capped))), 0)::bigint
            FROM points_ledger WHERE helper_id = \(helperId)
            """,
            logger: logger
        ).first({ try $0.decode((Int64, Int64, Int64).self) }) {
            standing.earned = Int(earned)
            standing.balance = Int(balance)
            standing.pointsToday = Int(today)
        }
        if let questionId {
            for (reason, amount) in try await connection.query(
                """
                SELECT reason, SUM(amount)::bigint FROM points_ledger
                WHERE question_id = \(questionId) AND helper_id = \(helperId) GROUP BY reason
                """,
                logger: logger
            ).all({ try $0.decode((String, Int64).self) }) {
                if let reason = PointReason(rawValue: reason) { standing.onQuestion[reason] = Int(amount) }
            }
        }
        standing.badges = Set(
            try await connection.query(
                "SELECT badge_key FROM helper_badges WHERE helper_id = \(helperId)", logger: logger
            ).all { try $0.decode(String.self) }
        )
        let lowSince = ProgrammeRules.lowRatingsSince(needs, settings: settings).millisecondsSince1970
        standing.lowRatings =
            try await connection.query(
                """
                SELECT COUNT(*) FROM ratings WHERE helper_id = \(helperId) AND rated_at >= \(lowSince)
                AND score <= \(needs.lowRatingScore)
                """,
                logger: logger
            ).first { try $0.decode(Int.self) } ?? 0
        return standing
    }

    /// Each topic's accepted answers (and so the helper's accepted answers in all) and ratings.
    func topicRecords(_ connection: PostgresConnection, _ helperId: String, into standing: inout HelperStanding) async throws {
        for (topic, solved) in try await connection.query(
            """
            SELECT topic, COUNT(*) FROM questions WHERE credited_helper_id = \(helperId) AND state = 'resolved'
            GROUP BY topic
            """,
            logger: logger
        ).all({ try $0.decode((String, Int).self) }) {
            standing.topics[topic, default: TopicRecord()].solved = solved
            standing.accepted += solved
        }
        for (topic, sum, count) in try await connection.query(
            """
            SELECT q.topic, SUM(r.score)::bigint, COUNT(*) FROM ratings r JOIN questions q ON q.id = r.question_id
            WHERE r.helper_id = \(helperId) AND r.rated_at IS NOT NULL GROUP BY q.topic
            """,
            logger: logger
        ).all({ try $0.decode((String, Int64, Int).self) }) {
            standing.topics[topic, default: TopicRecord()].ratingSum = Int(sum)
            standing.topics[topic, default: TopicRecord()].ratingCount = count
        }
    }

    func insertLedgerEntry(_ connection: PostgresConnection, _ entry: LedgerEntry) async throws {
        try await connection.query(
            """
            INSERT INTO points_ledger (id, helper_id, amount, reason, question_id, topic, payout_id, at)
            VALUES (\(entry.id), \(entry.helperId), \(entry.amount), \(entry.reason.rawValue), \(entry.questionId),
            \(entry.topic), \(entry.payoutId), \(entry.at.millisecondsSince1970))
            """,
            logger: logger
        )
    }
}

extension PostgresStore: ProgrammeRepository {
    public func standing(helperId: String, needs: StandingNeeds, at now: Date) async throws -> HelperStanding? {
        try await client.withConnection { connection in
            try await self.standing(
                connection, helperId: helperId, questionId: nil, needs: needs, at: now, locking: false
            )
        }
    }

    public func updateProgrammeSettings(
        helperId: String, at now: Date, _ change: @escaping @Sendable (inout ProgrammeSettings) throws -> Void
    ) async throws -> ProgrammeSettings {
        let logger = logger
        return try await transaction { connection in
            guard
                let row = try await connection.query(
                    """
                    SELECT \(unescaped: Self.settingsColumns) FROM helpers WHERE id = \(helperId) FOR NO KEY UPDATE
                    """,
                    logger: logger
                ).first({ $0.makeRandomAccess() })
            else { throw PatenError.notFound("helper", id: helperId) }
            var settings = try Self.programmeSettings(row)
            try change(&settings)
            try await connection.query(
                """
                UPDATE helpers SET time_zone = \(settings.timeZone), quiet_start = \(settings.quietHours?.start),
                quiet_end = \(settings.quietHours?.end), weekly_claims = \(settings.weeklyClaims),
                weekly_hours = \(settings.weeklyHours), updated_at = \(now.millisecondsSince1970) WHERE id = \(helperId)
                """,
                logger: logger
            )
            return settings
        }
    }

    public func setTopicAccess(
        helperId: String, topic: String, granted: Bool?, by actor: String, at now: Date
    ) async throws {
        let logger = logger
        try await transaction { connection in
            guard
                try await connection.query("SELECT 1 FROM helpers WHERE id = \(helperId)", logger: logger)
                    .first({ _ in true }) == true
            else { throw PatenError.notFound("helper", id: helperId) }
            if let granted {
                try await connection.query(
                    """
                    INSERT INTO helper_topics (helper_id, topic, granted, set_by, set_at)
                    VALUES (\(helperId), \(topic), \(granted), \(actor), \(now.millisecondsSince1970))
                    ON CONFLICT (helper_id, topic) DO UPDATE SET granted = excluded.granted, set_by = excluded.set_by,
                    set_at = excluded.set_at
                    """,
                    logger: logger
                )
            } else {
                try await connection.query(
                    "DELETE FROM helper_topics WHERE helper_id = \(helperId) AND topic = \(topic)", logger: logger
                )
            }
        }
    }

    public func resumeHelper(id: String, by actor: String, note: String, at now: Date) async throws {
        let logger = logger
        try await transaction { connection in
            guard
                let paused = try await connection.query(
                    "SELECT paused_at FROM helpers WHERE id = \(id) FOR NO KEY UPDATE", logger: logger
                ).first({ try $0.decode(Int64?.self) })
            else { throw PatenError.notFound("helper", id: id) }
            guard paused != nil else { throw PatenError.conflict("not_paused", "Helper \(id) is not paused.") }
            let ms = now.millisecondsSince1970
            try await connection.query(
                """
                UPDATE helpers SET paused_at = NULL, resumed_at = \(ms), resumed_by = \(actor), resume_note = \(note),
                updated_at = \(ms) WHERE id = \(id)
                """,
                logger: logger
            )
        }
    }

    public func ledger(
        helperId: String?, from: Date?, to: Date?, after: Int64, limit: Int
    ) async throws -> [LedgerRow] {
        let rows = try await client.query(
            """
            SELECT l.seq, l.id, l.helper_id, l.amount, l.reason, l.question_id, l.topic, l.payout_id, l.at, h.handle
            FROM points_ledger l JOIN helpers h ON h.id = l.helper_id
            WHERE l.seq > \(after) AND (\(helperId)::text IS NULL OR l.helper_id = \(helperId))
            AND (\(from?.millisecondsSince1970)::bigint IS NULL OR l.at >= \(from?.millisecondsSince1970))
            AND (\(to?.millisecondsSince1970)::bigint IS NULL OR l.at < \(to?.millisecondsSince1970))
            ORDER BY l.seq LIMIT \(limit)
            """,
            logger: logger
        )
        var found: [LedgerRow] = []
        for try await (seq, id, helper, amount, reason, question, topic, payout, at, handle) in rows.decode(
            (Int64, String, String, Int, String, String?, String?, String?, Int64, String).self
        ) {
            guard let reason = PointReason(rawValue: reason) else {
                throw PatenError(.unavailable, code: "corrupt_row", message: "Stored value '\(reason)' is not a reason.")
            }
            found.append(
                LedgerRow(
                    seq: seq,
                    entry: LedgerEntry(
                        id: id, helperId: helper, amount: amount, reason: reason, questionId: question, topic: topic,
                        payoutId: payout, at: Date(millisecondsSince1970: at)
                    ),
                    handle: handle
                )
            )
        }
        return found
    }

    public func leaderboard(since: Date?, topic: String?, limit: Int) async throws -> [LeaderboardEntry] {
        let rows = try await client.query(
            """
            SELECT h.id, h.handle, h.level, SUM(l.amount)::bigint AS points FROM points_ledger l
            JOIN helpers h ON h.id = l.helper_id
            WHERE l.reason <> 'payout' AND h.role = 'volunteer' AND h.active
            AND (\(since?.millisecondsSince1970)::bigint IS NULL OR l.at >= \(since?.millisecondsSince1970))
            AND (\(topic)::text IS NULL OR l.topic = \(topic))
            GROUP BY h.id, h.handle, h.level HAVING SUM(l.amount) > 0 ORDER BY points DESC, h.handle LIMIT \(limit)
            """,
            logger: logger
        )
        var found: [LeaderboardEntry] = []
        for try await (id, handle, level, points) in rows.decode((String, String, String?, Int64).self) {
            found.append(LeaderboardEntry(helperId: id, handle: handle, level: level, points: Int(points)))
        }
        return found
    }

    public func createPayout(
        id: String, periodEnd: Date, by actor: String, programme: Programme, at now: Date
    ) async throws -> (payout: Payout, created: Bool) {
        let logger = logger
        let periodMs = periodEnd.millisecondsSince1970
        let existing = try await transaction { connection -> String? in
            // One booking at a time, across instances: the second waits, then finds the first's batch.
            try await connection.query("LOCK TABLE payouts IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            if let booked = try await connection.query(
                "SELECT id FROM payouts WHERE period_end = \(periodMs)", logger: logger
            ).first({ try $0.decode(String.self) }) {
                return booked
            }
            let latest =
                try await connection.query("SELECT MAX(period_end) FROM payouts", logger: logger)
                .first({ try $0.decode(Int64?.self) }) ?? nil
            try ProgrammeReports.checkAfterBooked(periodEnd, latest: latest.map(Date.init(millisecondsSince1970:)))
            try await connection.query(
                """
                INSERT INTO payouts (id, period_end, created_at, created_by, value_per_point, currency, min_points)
                VALUES (\(id), \(periodMs), \(now.millisecondsSince1970), \(actor), \(programme.valuePerPoint),
                \(programme.currency), \(programme.payoutMinPoints))
                """,
                logger: logger
            )
            let balances = try await connection.query(
                """
                SELECT l.helper_id, h.handle, SUM(l.amount)::bigint FROM points_ledger l JOIN helpers h ON h.id = l.helper_id
                WHERE l.reason = 'payout' OR l.at < \(periodMs) GROUP BY l.helper_id, h.handle
                """,
                logger: logger
            ).all { row in
                let (helper, handle, points) = try row.decode((String, String, Int64).self)
                return PayoutLine(helperId: helper, handle: handle, points: Int(points))
            }
            for line in ProgrammeReports.payoutLines(balances, programme: programme) {
                try await self.insertLedgerEntry(
                    connection,
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
        try await client.withConnection { connection in
            guard
                let (payoutId, periodEnd, createdAt, createdBy, value, currency, minimum) = try await connection.query(
                    """
                    SELECT id, period_end, created_at, created_by, value_per_point, currency, min_points FROM payouts
                    WHERE id = \(id)
                    """,
                    logger: self.logger
                ).first({ try $0.decode((String, Int64, Int64, String, Double, String, Int).self) })
            else { return nil }
            let lines = try await connection.query(
                """
                SELECT l.helper_id, h.handle, -l.amount FROM points_ledger l JOIN helpers h ON h.id = l.helper_id
                WHERE l.payout_id = \(id) ORDER BY h.handle
                """,
                logger: self.logger
            ).all { row in
                let (helper, handle, points) = try row.decode((String, String, Int).self)
                return PayoutLine(helperId: helper, handle: handle, points: points)
            }
            return Payout(
                id: payoutId, periodEnd: Date(millisecondsSince1970: periodEnd),
                createdAt: Date(millisecondsSince1970: createdAt), createdBy: createdBy, valuePerPoint: value,
                currency: currency, minPoints: minimum, lines: lines
            )
        }
    }

    public func earnedPoints(helperId: String, since: Date?) async throws -> Int {
        let start = since?.millisecondsSince1970 ?? Int64.min
        return try await client.query(
            """
            SELECT COALESCE(SUM(amount), 0)::bigint FROM points_ledger
            WHERE helper_id = \(helperId) AND reason <> 'payout' AND at >= \(start)
            """,
            logger: logger
        ).first({ Int(try $0.decode(Int64.self)) }) ?? 0
    }

    public func latestPayoutPeriodEnd() async throws -> Date? {
        try await client.query("SELECT MAX(period_end) FROM payouts", logger: logger)
            .first({ try $0.decode(Int64?.self) })?.map(Date.init(millisecondsSince1970:))
    }

    public func programmeTallies(from: Date, to: Date) async throws -> [ProgrammeMonthTally] {
        let start = from.millisecondsSince1970
        let end = to.millisecondsSince1970
        func month(_ column: String) -> String {
            "to_char(to_timestamp(\(column) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM')"
        }
        return try await client.withConnection { connection in
            var tallies: [String: ProgrammeMonthTally] = [:]
            func tally(_ key: String) -> ProgrammeMonthTally { tallies[key] ?? ProgrammeMonthTally(month: key) }
            for (key, resolved, withoutStaff) in try await connection.query(
                """
                SELECT \(unescaped: month("q.resolved_at")) AS m, COUNT(*),
                COUNT(*) FILTER (WHERE q.staff_replies = 0 AND h.role = 'volunteer')
                FROM questions q LEFT JOIN helpers h ON h.id = q.credited_helper_id
                WHERE q.state = 'resolved' AND q.resolved_at >= \(start) AND q.resolved_at < \(end) GROUP BY m
                """,
                logger: self.logger
            ).all({ try $0.decode((String, Int, Int).self) }) {
                var entry = tally(key)
                entry.resolved = resolved
                entry.resolvedWithoutStaff = withoutStaff
                tallies[key] = entry
            }
            for (key, tier, count, satisfied) in try await connection.query(
                """
                SELECT \(unescaped: month("rated_at")) AS m, helper_tier, COUNT(*), COUNT(*) FILTER (WHERE score >= 4)
                FROM ratings WHERE rated_at >= \(start) AND rated_at < \(end) AND helper_tier IS NOT NULL
                GROUP BY m, helper_tier
                """,
                logger: self.logger
            ).all({ try $0.decode((String, String, Int, Int).self) }) {
                var entry = tally(key)
                if tier == Tier.volunteer.rawValue {
                    entry.volunteerRatings = count
                    entry.volunteerSatisfied = satisfied
                } else {
                    entry.staffRatings = count
                    entry.staffSatisfied = satisfied
                }
                tallies[key] = entry
            }
            for (key, paid) in try await connection.query(
                """
                SELECT \(unescaped: month("at")) AS m, (-SUM(amount))::bigint FROM points_ledger
                WHERE reason = 'payout' AND at >= \(start) AND at < \(end) GROUP BY m
                """,
                logger: self.logger
            ).all({ try $0.decode((String, Int64).self) }) {
                var entry = tally(key)
                entry.pointsPaid = Int(paid)
                tallies[key] = entry
            }
            return tallies.values.sorted { $0.month < $1.month }
        }
    }

    public func volunteerCounts() async throws -> (byLevel: [String?: Int], paused: Int) {
        let rows = try await client.query(
            """
            SELECT level, COUNT(*), COUNT(*) FILTER (WHERE paused_at IS NOT NULL) FROM helpers
            WHERE role = 'volunteer' AND active GROUP BY level
            """,
            logger: logger
        )
        var byLevel: [String?: Int] = [:]
        var paused = 0
        for try await (level, count, pausedCount) in rows.decode((String?, Int, Int).self) {
            byLevel[level] = count
            paused += pausedCount
        }
        return (byLevel, paused)
    }
}
