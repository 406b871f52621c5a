import Foundation

/// A ledger row as listed, with its place in the ledger (the cursor).
public struct LedgerRow: Sendable, Equatable {
    public var seq: Int64
    public var entry: LedgerEntry
    public var handle: String

    /// Creates a row.
    public init(seq: Int64, entry: LedgerEntry, handle: String) {
        self.seq = seq
        self.entry = entry
        self.handle = handle
    }
}

/// A leaderboard line.
public struct LeaderboardEntry: Sendable, Equatable {
    public var helperId: String
    public var handle: String
    public var level: String?
    public var points: Int

    /// Creates a line.
    public init(helperId: String, handle: String, level: String?, points: Int) {
        self.helperId = helperId
        self.handle = handle
        self.level = level
        self.points = points
    }
}

/// One helper's line in a payout batch.
public struct PayoutLine: Sendable, Equatable {
    public var helperId: String
    public var handle: String
    public var points: Int

    /// Creates a line.
    public init(helperId: String, handle: String, points: Int) {
        self.helperId = helperId
        self.handle = handle
        self.points = points
    }
}

/// A payout batch: every helper at or over the minimum, booked as ledger debits in one transaction.
public struct Payout: Sendable, Equatable {
    public var id: String
    public var periodEnd: Date
    public var createdAt: Date
    public var createdBy: String
    public var valuePerPoint: Double
    public var currency: String
    public var minPoints: Int
    public var lines: [PayoutLine]

    /// Creates a batch.
    public init(
        id: String, periodEnd: Date, createdAt: Date, createdBy: String, valuePerPoint: Double, currency: String,
        minPoints: Int, lines: [PayoutLine]
    ) {
        self.id = id
        self.periodEnd = periodEnd
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.valuePerPoint = valuePerPoint
        self.currency = currency
        self.minPoints = minPoints
        self.lines = lines
    }

    public var totalPoints: Int { lines.reduce(0) { $0 + $1.points } }

    /// What the points are worth, rounded to the currency's cents.
    public func amount(_ points: Int) -> Double { (Double(points) * valuePerPoint * 100).rounded() / 100 }
}

/// What a month of the programme was worth, from the store's tallies.
public struct ProgrammeMonthTally: Sendable, Equatable {
    /// The month, as "YYYY-MM" (UTC).
    public var month: String
    /// Questions resolved in the month with no staff reply, credited to a volunteer.
    public var resolvedWithoutStaff: Int
    /// Questions resolved in the month in all.
    public var resolved: Int
    /// Ratings in the month of volunteer-credited answers: how many, how many were 4 or 5; the same for staff.
    public var volunteerRatings: Int
    public var volunteerSatisfied: Int
    public var staffRatings: Int
    public var staffSatisfied: Int
    /// Points paid out in the month's payout batches.
    public var pointsPaid: Int

    /// Creates a tally.
    public init(
        month: String, resolvedWithoutStaff: Int = 0, resolved: Int = 0, volunteerRatings: Int = 0,
        volunteerSatisfied: Int = 0, staffRatings: Int = 0, staffSatisfied: Int = 0, pointsPaid: Int = 0
    ) {
        self.month = month
        self.resolvedWithoutStaff = resolvedWithoutStaff
        self.resolved = resolved
        self.volunteerRatings = volunteerRatings
        self.volunteerSatisfied = volunteerSatisfied
        self.staffRatings = staffRatings
        self.staffSatisfied = staffSatisfied
        self.pointsPaid = pointsPaid
    }
}

/// A month of the value report.
public struct ProgrammeValueMonth: Sendable, Equatable {
    public var tally: ProgrammeMonthTally
    /// Staff cost saved: questions resolved without staff times the policy's cost per question.
    public var staffCostSaved: Double
    /// CSAT (share of 4 and 5) of volunteer- and staff-credited ratings; nil without ratings.
    public var volunteerCsat: Double?
    public var staffCsat: Double?
    public var paidValue: Double
    public var net: Double
    public var currency: String
}

/// The programme's reports and staff actions, over its repository: standing summaries, the ledger, the leaderboard,
/// topic grants, resuming, payouts and the value report.
public enum ProgrammeReports {
    /// The months of the value report, from the store's tallies (months without any are left out by the store).
    public static func value(_ tallies: [ProgrammeMonthTally], programme: Programme) -> [ProgrammeValueMonth] {
        tallies.map { tally in
            let saved = (Double(tally.resolvedWithoutStaff) * programme.staffCostPerQuestion * 100).rounded() / 100
            let paid = (Double(tally.pointsPaid) * programme.valuePerPoint * 100).rounded() / 100
            func share(_ part: Int, _ whole: Int) -> Double? {
                whole == 0 ? nil : (Double(part) / Double(whole) * 1000).rounded() / 1000
            }
            return ProgrammeValueMonth(
                tally: tally, staffCostSaved: saved, volunteerCsat: share(tally.volunteerSatisfied, tally.volunteerRatings),
                staffCsat: share(tally.staffSatisfied, tally.staffRatings), paidValue: paid,
                net: ((saved - paid) * 100).rounded() / 100, currency: programme.currency
            )
        }
    }

    /// The lines of a payout: every helper whose balance reaches the minimum, paid their whole balance.
    public static func payoutLines(_ balances: [PayoutLine], programme: Programme) -> [PayoutLine] {
        balances.filter { $0.points >= max(1, programme.payoutMinPoints) }.sorted { $0.handle < $1.handle }
    }

    /// Payout periods follow one another: a new one must end after the latest booked (the same end is the same
    /// batch, which the store returns before asking).
    public static func checkAfterBooked(_ periodEnd: Date, latest: Date?) throws {
        guard let latest, latest > periodEnd else { return }
        throw PatenError.conflict(
            "payout_period_overlaps",
            "A payout up to \(RFC3339.format(latest)) is booked already; a new period must end after it."
        )
    }

    /// A payout may close a period that has ended, not one still running.
    public static func checkPeriodEnd(_ periodEnd: Date, at now: Date) throws {
        guard periodEnd <= now else {
            throw PatenError(
                .unprocessable, code: "period_in_future",
                message: "period_end \(RFC3339.format(periodEnd)) is in the future; book a payout once its period has ended."
            )
        }
    }
}

/// A helper's programme, as `GET /v1/me/programme` shows it.
public struct ProgrammeSummary: Sendable, Equatable {
    public var helperId: String
    public var handle: String
    public var role: Role
    /// Points earned in all, this week, this payout period (since the latest payout's end), and not yet paid out.
    public var pointsTotal: Int
    public var pointsWeek: Int
    public var pointsPeriod: Int
    public var balance: Int
    public var level: String?
    /// The next level and what it still needs.
    public var nextLevel: Programme.Level?
    public var accepted: Int
    public var badges: [String]
    public var unlockedTopics: [String]
    public var lockedTopics: [String]
    public var claimsLeft: Int?
    public var hoursLeft: Double?
    public var paused: Bool
    public var pausedAt: Date?
    public var inQuietHours: Bool
    public var settings: ProgrammeSettings
}

/// The volunteer programme's API: who may see and change what, and the checks on what they send.
public struct ProgrammeDesk: Sendable {
    public let policy: Policy
    private let store: any ProgrammeRepository
    private let helpers: any HelperRepository
    private let clock: any Clock
    private let ids: any IdentifierGenerator

    /// Creates the desk.
    public init(
        policy: Policy, store: any ProgrammeRepository, helpers: any HelperRepository, clock: any Clock,
        ids: any IdentifierGenerator
    ) {
        self.policy = policy
        self.store = store
        self.helpers = helpers
        self.clock = clock
        self.ids = ids
    }

    var programme: Programme { policy.programme }

    static func requireStaff(_ viewer: Helper) throws {
        guard viewer.role.isStaffOrAdmin else {
            throw PatenError.forbidden("forbidden_role", "This needs the role staff or admin.")
        }
    }

    func needs(_ helperId: String) -> StandingNeeds {
        ProgrammeRules.needs(.helper(helperId), policy: policy, now: clock.now())
    }

    /// A helper who takes part in the programme, by id or handle (as `GET /v1/helpers/{id}` takes them); integration
    /// accounts have no programme.
    func participant(_ idOrHandle: String) async throws -> Helper {
        var found = try await helpers.helper(id: idOrHandle)
        if found == nil { found = try await helpers.helper(handle: idOrHandle.lowercased()) }
        guard let helper = found else { throw PatenError.notFound("helper", id: idOrHandle) }
        guard helper.role.answersQuestions else {
            throw PatenError.forbidden("role_has_no_programme", "Integration accounts take no part in the programme.")
        }
        return helper
    }

    /// The helper's programme: the caller's own, or anyone's (by id or handle) for staff.
    public func summary(of idOrHandle: String, for viewer: Helper) async throws -> ProgrammeSummary {
        let own = idOrHandle == viewer.id || idOrHandle.lowercased() == viewer.handle
        if !own { try Self.requireStaff(viewer) }
        let helper = own ? viewer : try await participant(idOrHandle)
        guard helper.role.answersQuestions else {
            throw PatenError.forbidden("role_has_no_programme", "Integration accounts take no part in the programme.")
        }
        let helperId = helper.id
        let now = clock.now()
        guard let standing = try await store.standing(helperId: helperId, needs: needs(helperId), at: now) else {
            throw PatenError.notFound("helper", id: helperId)
        }
        let week = ProgrammeRules.weekStart(now, zone: policy.businessHours.timeZone)
        let pointsWeek = try await store.earnedPoints(helperId: helperId, since: week)
        let period = try await store.latestPayoutPeriodEnd()
        let pointsPeriod = try await store.earnedPoints(helperId: helperId, since: period)
        let topics = policy.topics.map(\.name).filter {
            helper.role != .volunteer || !policy.staffOnlyTopics.contains($0)
        }
        let locked = ProgrammeRules.lockedTopics(for: standing, topics: topics, programme: programme)
        let level = standing.settings.level ?? ProgrammeRules.level(for: standing, programme: programme)
        let rank = programme.rank(of: level)
        let left = ProgrammeRules.budgetLeft(standing, programme: programme)
        return ProgrammeSummary(
            helperId: helperId, handle: helper.handle, role: helper.role, pointsTotal: standing.earned,
            pointsWeek: pointsWeek, pointsPeriod: pointsPeriod,
            balance: standing.balance, level: standing.takesPart ? level : nil,
            nextLevel: standing.takesPart && rank + 1 < programme.levels.count ? programme.levels[rank + 1] : nil,
            accepted: standing.accepted, badges: standing.badges.sorted(), unlockedTopics: topics.filter { !locked.contains($0) },
            lockedTopics: locked, claimsLeft: standing.takesPart ? left.claims : nil,
            hoursLeft: standing.takesPart ? left.hours.map { ($0 * 100).rounded() / 100 } : nil,
            paused: standing.settings.pausedAt != nil, pausedAt: standing.settings.pausedAt,
            inQuietHours: ProgrammeRules.inQuietHours(
                standing.settings, at: now, defaultZone: policy.businessHours.timeZone
            ),
            settings: standing.settings
        )
    }

    /// Sets the caller's time zone and quiet hours ("HH:MM" to "HH:MM"; nil clears them).
    public func setQuietHours(
        timeZone: String??, quietHours: (start: String, end: String)??, for helper: Helper
    ) async throws -> ProgrammeSettings {
        guard helper.role.answersQuestions else {
            throw PatenError.forbidden("role_has_no_programme", "Integration accounts take no part in the programme.")
        }
        var zone: String?? = nil
        if let timeZone {
            if let name = timeZone {
                guard TimeZone(identifier: name) != nil else {
                    throw PatenError.unprocessable(
                        "invalid_time_zone", "'\(name)' is not a time zone; use a name such as Europe/Berlin."
                    )
                }
            }
            zone = .some(timeZone)
        }
        var quiet: QuietHours?? = nil
        if let quietHours {
            if let range = quietHours {
                guard let start = QuietHours.minutes(range.start), let end = QuietHours.minutes(range.end), start != end
                else {
                    throw PatenError.unprocessable(
                        "invalid_quiet_hours",
                        "quiet_hours needs start and end as \"HH:MM\" (00:00 to 23:59), not equal; for example 22:00 to 07:00."
                    )
                }
                quiet = .some(QuietHours(start: start, end: end))
            } else {
                quiet = .some(nil)
            }
        }
        let newZone = zone
        let newQuiet = quiet
        return try await store.updateProgrammeSettings(helperId: helper.id, at: clock.now()) { settings in
            if let newZone { settings.timeZone = newZone }
            if let newQuiet { settings.quietHours = newQuiet }
        }
    }

    /// Staff set a helper's own weekly budget (nil values return them to the policy's); returns the helper's id.
    public func setBudget(
        of idOrHandle: String, weeklyClaims: Int??, weeklyHours: Double??, by actor: Helper
    ) async throws -> String {
        try Self.requireStaff(actor)
        if case .some(.some(let claims)) = weeklyClaims, !(0...1000).contains(claims) {
            throw PatenError.unprocessable("invalid_budget", "weekly_claims must be a whole number from 0 to 1000.")
        }
        if case .some(.some(let hours)) = weeklyHours, !(0...168).contains(hours) {
            throw PatenError.unprocessable("invalid_budget", "weekly_hours must be a number from 0 to 168.")
        }
        let helper = try await participant(idOrHandle)
        _ = try await store.updateProgrammeSettings(helperId: helper.id, at: clock.now()) { settings in
            if let weeklyClaims { settings.weeklyClaims = weeklyClaims }
            if let weeklyHours { settings.weeklyHours = weeklyHours }
        }
        return helper.id
    }

    /// What staff may do with a topic for a helper.
    public enum TopicAccess: String, Sendable, CaseIterable {
        case grant, revoke
        /// Back to what the policy's unlock says.
        case policy
    }

    /// Staff grant or revoke a topic for a helper; returns the helper's id.
    public func setTopic(
        _ topic: String, access: TopicAccess, for idOrHandle: String, by actor: Helper
    ) async throws -> String {
        try Self.requireStaff(actor)
        guard policy.hasTopic(topic) else {
            throw PatenError.unprocessable(
                "unknown_topic",
                "'\(topic)' is not a topic of the policy (\(policy.topics.map(\.name).joined(separator: ", ")))."
            )
        }
        let helper = try await participant(idOrHandle)
        let granted: Bool? =
            switch access {
            case .grant: true
            case .revoke: false
            case .policy: nil
            }
        try await store.setTopicAccess(helperId: helper.id, topic: topic, granted: granted, by: actor.id, at: clock.now())
        return helper.id
    }

    /// Staff resume a paused volunteer, with a note on what they reviewed; returns the helper's id.
    public func resume(_ idOrHandle: String, note: String, by actor: Helper) async throws -> String {
        try Self.requireStaff(actor)
        let text = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, note.unicodeScalars.count <= SupportDesk.maxNoteLength else {
            throw PatenError.unprocessable(
                "note_required", "Write a note (1 to \(SupportDesk.maxNoteLength) characters) on what you reviewed."
            )
        }
        let helper = try await participant(idOrHandle)
        try await store.resumeHelper(id: helper.id, by: actor.id, note: text, at: clock.now())
        return helper.id
    }

    /// A page of the ledger for staff (a helper's own rows for a volunteer asking about themselves).
    public func ledger(
        helperId: String?, from: Date?, to: Date?, after: Int64, limit: Int, for viewer: Helper
    ) async throws -> [LedgerRow] {
        let own = helperId == viewer.id || helperId?.lowercased() == viewer.handle
        if !own { try Self.requireStaff(viewer) }
        guard (1...1000).contains(limit) else {
            throw PatenError.malformed("invalid_limit", "limit must be from 1 to 1000.")
        }
        if let from, let to, from >= to {
            throw PatenError.malformed("invalid_period", "'from' must be before 'to'.")
        }
        // A handle names the same helper as its id.
        var helperId = helperId
        if own {
            helperId = viewer.id
        } else if let named = helperId {
            helperId = try await participant(named).id
        }
        return try await store.ledger(helperId: helperId, from: from, to: to, after: after, limit: limit)
    }

    /// The leaderboard's periods.
    public enum Period: String, Sendable, CaseIterable {
        case week, month, all
    }

    /// Handles and points of the best volunteers in the period (UTC weeks from Monday, calendar months).
    public func leaderboard(period: Period, topic: String?, for viewer: Helper) async throws -> [LeaderboardEntry] {
        guard viewer.role.answersQuestions else {
            throw PatenError.forbidden("role_has_no_programme", "Integration accounts take no part in the programme.")
        }
        if let topic, !policy.hasTopic(topic) {
            throw PatenError.unprocessable("unknown_topic", "'\(topic)' is not a topic of the policy.")
        }
        let now = clock.now()
        let utc = TimeZone(identifier: "UTC") ?? .current
        let since: Date? =
            switch period {
            case .week: ProgrammeRules.weekStart(now, zone: utc)
            case .month:
                {
                    var calendar = Calendar(identifier: .gregorian)
                    calendar.timeZone = utc
                    return calendar.dateInterval(of: .month, for: now)?.start
                }()
            case .all: nil
            }
        return try await store.leaderboard(since: since, topic: topic, limit: 50)
    }

    /// Books the payout for the period ending at `periodEnd` (admin).
    public func createPayout(periodEnd: Date, by actor: Helper) async throws -> (payout: Payout, created: Bool) {
        guard actor.role == .admin else {
            throw PatenError.forbidden("forbidden_role", "Payouts are booked by an admin.")
        }
        let now = clock.now()
        try ProgrammeReports.checkPeriodEnd(periodEnd, at: now)
        return try await store.createPayout(
            id: ids.make("po"), periodEnd: periodEnd, by: actor.id, programme: programme, at: now
        )
    }

    /// A payout batch (staff and admins).
    public func payout(_ id: String, for viewer: Helper) async throws -> Payout {
        try Self.requireStaff(viewer)
        guard let payout = try await store.payout(id: id) else { throw PatenError.notFound("payout", id: id) }
        return payout
    }

    /// Active volunteers by level (every level of the policy, those not yet placed at the lowest) and how many are
    /// paused, for the Prometheus gauges.
    public func volunteerCounts() async throws -> (byLevel: [(level: String, count: Int)], paused: Int) {
        let counts = try await store.volunteerCounts()
        var byLevel = programme.levels.map { ($0.id, 0) }
        for (level, count) in counts.byLevel {
            let index = programme.levels.firstIndex { $0.id == level } ?? 0
            if !byLevel.isEmpty { byLevel[index].1 += count }
        }
        return (byLevel.map { (level: $0.0, count: $0.1) }, counts.paused)
    }

    /// The value report by month for [from, to) (staff).
    public func value(from: Date, to: Date, for viewer: Helper) async throws -> [ProgrammeValueMonth] {
        try Self.requireStaff(viewer)
        guard from < to else {
            throw PatenError.malformed("invalid_period", "'from' must be before 'to'.")
        }
        return ProgrammeReports.value(try await store.programmeTallies(from: from, to: to), programme: programme)
    }
}
