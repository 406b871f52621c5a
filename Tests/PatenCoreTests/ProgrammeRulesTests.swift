import Foundation
import PatenCore
import Testing

/// The volunteer programme's rules as pure decisions: credit, points and their caps, levels with the low-water mark,
/// badges, topic unlocks, the weekly budget, quiet hours, the auto-pause, probation, reversals, payouts and value.
@Suite("Programme rules")
struct ProgrammeRulesTests {
    let base = QuestionCommandsTests()
    var now: Date { base.now }

    /// Small thresholds so a few answers move a level: helper at 20 points and 1 accepted answer, expert at 100 and
    /// 5. Billing unlocks at level helper; roaming after 2 accepted answers there rated 4.0 on average.
    static let programme = Programme(
        points: [.acceptedAnswer: 15, .goodRating: 5, .confirmedSolved: 5, .fastFirstReply: 2],
        dailyCap: 20, capExempt: [.acceptedAnswer], perQuestionCap: 30,
        levels: [
            .init(id: "newcomer", points: 0, accepted: 0), .init(id: "helper", points: 20, accepted: 1),
            .init(id: "expert", points: 100, accepted: 5),
        ],
        badges: [
            .init(id: "first_answer", name: "First accepted answer", accepted: 1, points: 10),
            .init(id: "topic_expert", name: "Topic expert", accepted: 2, inTopic: true, minAverageRating: 4.0),
        ],
        unlocks: ["billing": .init(level: "helper"), "roaming": .init(solvedInTopic: 2, minAverageRating: 4.0)],
        weeklyClaims: 5, weeklyHours: 2, pauseAfter: 3, pauseWindow: 14 * 86400, probationAnswers: 2,
        payoutMinPoints: 1000, valuePerPoint: 0.01, currency: "GBP", staffCostPerQuestion: 6
    )

    static let policy: Policy = {
        var policy = QuestionCommandsTests.policy
        policy.programme = programme
        policy.topics += [Policy.Topic(name: "billing", keywords: []), Policy.Topic(name: "roaming", keywords: [])]
        policy.staffOnlyTopics = []
        return policy
    }()

    func context(at time: Date? = nil) -> ChangeContext {
        ChangeContext(now: time ?? now, planner: SLAPlanner(policy: Self.policy), ids: CountingIdentifiers())
    }

    func standing(
        _ id: String = "h_vol", role: Role = .volunteer, earned: Int = 0, accepted: Int = 0, today: Int = 0,
        level: String? = "newcomer", onQuestion: [PointReason: Int] = [:], lowRatings: Int = 0
    ) -> HelperStanding {
        // Fixtures with an accepted answer hold the first-answer badge already, as they would.
        HelperStanding(
            helperId: id, role: role, settings: ProgrammeSettings(level: level), earned: earned, balance: earned,
            accepted: accepted, pointsToday: today, onQuestion: onQuestion, badges: accepted > 0 ? ["first_answer"] : [],
            lowRatings: lowRatings
        )
    }

    func points(_ change: QuestionChange) -> [String] {
        change.effects.compactMap {
            if case .points(let entry) = $0 { "\(entry.reason.rawValue) \(entry.amount)" } else { nil }
        }
    }

    func resolve(
        _ snapshot: QuestionSnapshot, by actor: Helper? = nil, answerId: String? = nil
    ) throws -> QuestionChange {
        try QuestionCommands.resolve(
            snapshot, by: actor ?? base.volunteer, note: nil, answerId: answerId, rating: nil, context: context()
        )
    }

    func answered(
        _ standing: HelperStanding?, lastReplier: Replier? = Replier(id: "h_vol", role: .volunteer, messageId: "m_2")
    )
        -> QuestionSnapshot
    {
        var snapshot = base.snapshot(base.claimed(by: "h_vol", answered: true), lastReplier: lastReplier)
        snapshot.standing = standing
        return snapshot
    }

    // MARK: - Credit

    @Test("The credit goes to the named answer's author, else the latest helper reply, else nobody")
    func credit() throws {
        var named = answered(nil, lastReplier: Replier(id: "h_staff", role: .staff, messageId: "m_9"))
        named.answer = Replier(id: "h_vol", role: .volunteer, messageId: "m_2")
        let byName = try resolve(named, by: base.staff, answerId: "m_2")
        #expect(byName.record.tallies.creditedHelperId == "h_vol")
        #expect(byName.record.tallies.answerId == "m_2")
        #expect(byName.events[0].data["answer_id"] == "m_2")

        let latest = try resolve(answered(nil, lastReplier: Replier(id: "h_staff", role: .staff, messageId: "m_9")), by: base.staff)
        #expect(latest.record.tallies.creditedHelperId == "h_staff")
        #expect(latest.record.tallies.answerId == "m_9")

        // Named but not a helper reply on this question (the store found none): refused, nothing credited.
        let error = #expect(throws: PatenError.self) {
            try resolve(answered(nil), by: base.staff, answerId: "m_customer")
        }
        #expect(error?.code == "invalid_answer")
        #expect(error?.kind == .unprocessable)
    }

    // MARK: - Points

    @Test("An accepted answer earns its points, the first badge with its bonus, a level, and probation review")
    func acceptedAnswer() throws {
        let change = try resolve(answered(standing()))
        #expect(points(change) == ["accepted_answer 15", "badge 10"])
        #expect(change.trail.contains("escalation(probation_review)"))
        #expect(change.trail.contains("badge(first_answer)"))
        // 25 points and one accepted answer: helper (20 and 1).
        #expect(change.trail.contains("setLevel(helper)"))
        let moved = try #require(change.events.first { $0.type == .levelChanged })
        #expect(moved.data == ["helper_id": "h_vol", "level": "helper", "from_level": "newcomer"])
        #expect(change.events.contains { $0.type == .badgeAwarded && $0.data["badge"] == "first_answer" })
        // Past probation (two answers): no review.
        let later = try resolve(answered(standing(earned: 60, accepted: 2, level: "helper")))
        #expect(!later.trail.contains("escalation(probation_review)"))
        #expect(points(later) == ["accepted_answer 15"])
    }

    @Test("Staff earn no points; their answers are credited all the same")
    func staffEarnNothing() throws {
        let change = try resolve(
            answered(standing("h_staff", role: .staff), lastReplier: Replier(id: "h_staff", role: .staff)), by: base.staff
        )
        #expect(points(change).isEmpty)
        #expect(change.record.tallies.creditedHelperId == "h_staff")
        #expect(!change.trail.contains { $0.hasPrefix("escalation") })
    }

    @Test("The daily cap counts capped reasons only; the per-question cap counts everything on the question")
    func caps() {
        var standing = standing(today: 18)
        let programme = Self.programme
        #expect(ProgrammeRules.allowance(.goodRating, for: standing, programme: programme) == 2)
        #expect(ProgrammeRules.allowance(.acceptedAnswer, for: standing, programme: programme) == 15)
        standing.pointsToday = 20
        #expect(ProgrammeRules.allowance(.goodRating, for: standing, programme: programme) == 0)
        standing.pointsToday = 0
        standing.onQuestion = [.acceptedAnswer: 15, .goodRating: 5, .confirmedSolved: 5]
        #expect(ProgrammeRules.allowance(.goodRating, for: standing, programme: programme) == 5)
        standing.onQuestion[.fastFirstReply] = 4
        #expect(ProgrammeRules.allowance(.goodRating, for: standing, programme: programme) == 1)
        // A badge's bonus does not fill the question's cap.
        standing.onQuestion[.fastFirstReply] = 0
        standing.onQuestion[.badge] = 10
        #expect(ProgrammeRules.allowance(.goodRating, for: standing, programme: programme) == 5)
    }

    @Test("Attack: a volunteer resolving their own replies all day stops at the standard daily cap")
    func answerFarm() throws {
        // The standard programme exempts nothing: a volunteer who resolves with their own reply is their own judge.
        var policy = Self.policy
        policy.programme = .standard
        let context = ChangeContext(now: now, planner: SLAPlanner(policy: policy), ids: CountingIdentifiers())
        var farmer = standing(earned: 190, accepted: 12, level: "newcomer")
        farmer.badges = ["first_answer", "ten_solved"]
        farmer.pointsToday = 195
        let change = try QuestionCommands.resolve(
            answered(farmer), by: base.volunteer, note: nil, rating: nil, context: context
        )
        #expect(points(change) == ["accepted_answer 5"])
        farmer.pointsToday = 200
        let capped = try QuestionCommands.resolve(answered(farmer), by: base.volunteer, note: nil, rating: nil, context: context)
        #expect(points(capped).isEmpty)
    }

    @Test("A first reply within the peer window earns points; later, or a second reply, does not")
    func fastFirstReply() throws {
        func reply(at time: Date, answered: Bool = false) throws -> QuestionChange {
            var snapshot = base.snapshot(base.claimed(by: "h_vol", until: time.addingTimeInterval(600), answered: answered))
            snapshot.standing = standing()
            return try QuestionCommands.reply(
                snapshot, by: base.volunteer, messageId: "m_2", body: "Try this", lease: 1800, context: context(at: time)
            )
        }
        // The peer deadline is two hours after submission; now is one hour after.
        #expect(points(try reply(at: now)) == ["fast_first_reply 2"])
        #expect(points(try reply(at: base.createdAt.addingTimeInterval(7201))).isEmpty)
        #expect(points(try reply(at: now, answered: true)).isEmpty)
    }

    // MARK: - Ratings, pause

    @Test("A good rating and a confirmed solution earn points; neither does on a reopened question (attack: stale link)")
    func ratingPoints() throws {
        let stored = StoredRating(
            questionId: "q_1", expiresAt: now.addingTimeInterval(86400), helperId: "h_vol", helperTier: .volunteer,
            score: nil
        )
        var resolved = base.snapshot(
            base.question(state: .resolved, answered: true), QuestionTallies(creditedHelperId: "h_vol", answerId: "m_2")
        )
        resolved.standing = standing(earned: 25, accepted: 1, level: "helper")
        let good = try QuestionCommands.rate(
            resolved, rating: stored, score: 5, comment: nil, solved: true, context: context()
        )
        #expect(points(good) == ["good_rating 5", "confirmed_solved 5"])
        #expect(good.effects[0] == .recordScore(score: 5, comment: nil, solved: true, at: now))
        #expect(good.events[0].data["solved"] == "true")

        var reopened = resolved
        reopened.record.question.state = .open
        reopened.record.tallies.creditedHelperId = nil
        let late = try QuestionCommands.rate(
            reopened, rating: stored, score: 4, comment: nil, solved: true, context: context()
        )
        #expect(points(late).isEmpty)
        let bad = try QuestionCommands.rate(resolved, rating: stored, score: 3, comment: nil, solved: false, context: context())
        #expect(points(bad).isEmpty)
    }

    @Test("The third low rating within the window pauses the volunteer and tells staff; bad ratings cost no points")
    func autoPause() throws {
        let stored = StoredRating(
            questionId: "q_1", expiresAt: now.addingTimeInterval(86400), helperId: "h_vol", helperTier: .volunteer,
            score: nil
        )
        var snapshot = base.snapshot(
            base.question(state: .resolved, answered: true), QuestionTallies(creditedHelperId: "h_vol")
        )
        snapshot.standing = standing(earned: 40, accepted: 2, level: "helper", lowRatings: 1)
        let second = try QuestionCommands.rate(snapshot, rating: stored, score: 2, comment: nil, context: context())
        #expect(second.pausedHelper == nil)
        #expect(points(second).isEmpty)
        snapshot.standing?.lowRatings = 2
        let third = try QuestionCommands.rate(snapshot, rating: stored, score: 1, comment: nil, context: context())
        #expect(third.pausedHelper == "h_vol")
        #expect(third.trail.contains("escalation(volunteer_paused)"))
        #expect(third.trail.contains("escalation(low_rating)"))
        #expect(third.events.contains { $0.type == .helperPaused && $0.data["low_ratings"] == "3" })
        // Paused already: not paused twice.
        snapshot.standing?.settings.pausedAt = now.addingTimeInterval(-60)
        let again = try QuestionCommands.rate(snapshot, rating: stored, score: 1, comment: nil, context: context())
        #expect(again.pausedHelper == nil)
    }

    @Test("Attack: a paused volunteer still holding a question cannot renew, reply to or resolve it")
    func pausedHolder() {
        var paused = standing(earned: 40, accepted: 2, level: "helper")
        paused.settings.pausedAt = now.addingTimeInterval(-60)
        var held = base.snapshot(base.claimed(by: "h_vol", answered: true), lastReplier: Replier(id: "h_vol", role: .volunteer))
        held.standing = paused
        for attempt in [
            { _ = try QuestionCommands.claim(held, by: base.volunteer, claimId: "c_2", lease: 1800, context: context()) },
            {
                _ = try QuestionCommands.reply(
                    held, by: base.volunteer, messageId: "m_3", body: "More", lease: 1800, context: context()
                )
            },
            { _ = try resolve(held) },
        ] as [() throws -> Void] {
            #expect((#expect(throws: PatenError.self) { try attempt() })?.code == "helper_paused")
        }
        // Staff resolving it, crediting the paused volunteer's answer, is not refused.
        #expect(throws: Never.self) { _ = try resolve(held, by: base.staff) }
    }

    @Test("A paused volunteer's held question goes back to the pool; one held by someone else is left alone")
    func returnToPool() {
        let held = QuestionCommands.returnToPool(base.snapshot(base.claimed(by: "h_vol")), from: "h_vol", context: context())
        #expect(held.trail == ["endClaim(released)", "question.released"])
        #expect(held.question.state == .open)
        #expect(held.events[0].data == ["holder_id": "h_vol", "reason": "helper_paused"])
        let other = QuestionCommands.returnToPool(base.snapshot(base.claimed(by: "h_other")), from: "h_vol", context: context())
        #expect(other.effects.isEmpty)
    }

    // MARK: - Reopen

    @Test("Reopening takes back the accepted answer's and the solution's points, in new rows; the level may follow")
    func reversal() throws {
        var snapshot = base.snapshot(
            base.question(state: .resolved, answered: true), QuestionTallies(creditedHelperId: "h_vol", answerId: "m_2")
        )
        // 30 points in all (helper), 20 of them from this question; one accepted answer.
        snapshot.standing = standing(
            earned: 30, accepted: 1, level: "helper", onQuestion: [.acceptedAnswer: 15, .confirmedSolved: 5, .goodRating: 5]
        )
        let change = try QuestionCommands.reopen(snapshot, by: base.staff, context: context())
        #expect(points(change) == ["accepted_answer_reversed -15", "confirmed_solved_reversed -5"])
        #expect(change.record.tallies.creditedHelperId == nil)
        // 10 points and no accepted answer is below 90 % of helper's thresholds: back to newcomer.
        #expect(change.trail.contains("setLevel(newcomer)"))
        // Reversed once: a second reopening finds nothing left to take back.
        snapshot.standing?.onQuestion[.acceptedAnswerReversed] = -15
        snapshot.standing?.onQuestion[.confirmedSolvedReversed] = -5
        let again = try QuestionCommands.reopen(snapshot, by: base.staff, context: context())
        #expect(points(again).isEmpty)
    }

    @Test("A level is lost only below 90 % of its thresholds")
    func lowWaterMark() {
        let programme = Self.programme
        #expect(ProgrammeRules.level(for: standing(earned: 95, accepted: 5, level: "expert"), programme: programme) == "expert")
        #expect(ProgrammeRules.level(for: standing(earned: 90, accepted: 5, level: "expert"), programme: programme) == "expert")
        #expect(ProgrammeRules.level(for: standing(earned: 89, accepted: 5, level: "expert"), programme: programme) == "helper")
        #expect(ProgrammeRules.level(for: standing(earned: 95, accepted: 4, level: "expert"), programme: programme) == "helper")
        #expect(ProgrammeRules.level(for: standing(earned: 95, accepted: 5, level: "helper"), programme: programme) == "helper")
        #expect(ProgrammeRules.level(for: standing(earned: 100, accepted: 5, level: "helper"), programme: programme) == "expert")
        #expect(ProgrammeRules.level(for: standing(earned: 0, level: nil), programme: programme) == "newcomer")
    }

    @Test("A topic badge needs the answers in the topic and the average rating there")
    func topicBadge() {
        var standing = standing(accepted: 3)
        standing.badges = ["first_answer"]
        standing.topics["roaming"] = TopicRecord(solved: 2, ratingSum: 7, ratingCount: 2)
        #expect(ProgrammeRules.newBadges(for: standing, topic: "roaming", programme: Self.programme).isEmpty)
        standing.topics["roaming"]?.ratingSum = 8
        #expect(ProgrammeRules.newBadges(for: standing, topic: "roaming", programme: Self.programme).map(\.key) == ["topic_expert:roaming"])
        #expect(ProgrammeRules.newBadges(for: standing, topic: "general", programme: Self.programme).isEmpty)
    }

    // MARK: - Claims

    @Test("Claims: locked topics, staff grants and revocations, pause, quiet hours and the weekly budget refuse")
    func claimChecks() throws {
        func claim(topic: String = "general", _ standing: HelperStanding) throws {
            var question = base.question()
            question.topic = topic
            var snapshot = base.snapshot(question)
            snapshot.standing = standing
            _ = try QuestionCommands.claim(snapshot, by: base.volunteer, claimId: "c_1", lease: 1800, context: context())
        }
        try claim(standing())
        let locked = #expect(throws: PatenError.self) { try claim(topic: "billing", standing()) }
        #expect(locked?.code == "topic_locked")
        #expect(locked?.kind == .forbidden)
        #expect(locked?.message.contains("level helper") == true)
        try claim(topic: "billing", standing(level: "helper"))
        var record = standing()
        record.topics["roaming"] = TopicRecord(solved: 2, ratingSum: 8, ratingCount: 2)
        try claim(topic: "roaming", record)
        record.topics["roaming"]?.granted = false
        #expect(throws: PatenError.self) { try claim(topic: "roaming", record) }
        record.topics["billing"] = TopicRecord(granted: true)
        try claim(topic: "billing", record)

        var paused = standing()
        paused.settings.pausedAt = now
        #expect((#expect(throws: PatenError.self) { try claim(paused) })?.code == "helper_paused")

        var quiet = standing()
        quiet.settings.timeZone = "UTC"
        let minute = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: now)
        let start = (minute.hour! * 60 + minute.minute! + 1440 - 30) % 1440
        quiet.settings.quietHours = QuietHours(start: start, end: (start + 60) % 1440)
        #expect((#expect(throws: PatenError.self) { try claim(quiet) })?.code == "quiet_hours")
        quiet.settings.quietHours = QuietHours(start: (start + 60) % 1440, end: (start + 120) % 1440)
        try claim(quiet)

        var busy = standing()
        busy.claimsThisWeek = 5
        #expect((#expect(throws: PatenError.self) { try claim(busy) })?.code == "weekly_budget_reached")
        busy.settings.weeklyClaims = 6
        try claim(busy)
        busy.claimedSecondsThisWeek = 7200
        #expect((#expect(throws: PatenError.self) { try claim(busy) })?.code == "weekly_budget_reached")

        // Staff are never limited by the programme.
        var staffing = standing("h_staff", role: .staff)
        staffing.settings.pausedAt = now
        var question = base.question(tier: .staff)
        question.topic = "billing"
        var snapshot = base.snapshot(question)
        snapshot.standing = staffing
        _ = try QuestionCommands.claim(snapshot, by: base.staff, claimId: "c_1", lease: 1800, context: context())
    }

    @Test("The holder renewing a claim is never refused by the budget")
    func renewalIsFree() throws {
        var snapshot = base.snapshot(base.claimed(by: "h_vol"))
        var busy = standing()
        busy.claimsThisWeek = 99
        snapshot.standing = busy
        let change = try QuestionCommands.claim(snapshot, by: base.volunteer, claimId: "c_2", lease: 1800, context: context())
        #expect(change.trail == ["renewClaim"])
    }

    @Test("Quiet hours wrap past midnight; weeks start on Monday in the helper's time zone")
    func calendar() throws {
        let quiet = QuietHours(start: 22 * 60, end: 7 * 60)
        #expect(quiet.contains(minuteOfDay: 23 * 60))
        #expect(quiet.contains(minuteOfDay: 6 * 60 + 59))
        #expect(!quiet.contains(minuteOfDay: 7 * 60))
        #expect(!quiet.contains(minuteOfDay: 12 * 60))
        #expect(QuietHours.minutes("24:00") == nil && QuietHours.minutes("7:00") == nil && QuietHours.minutes("07:05") == 425)
        // Monday 2026-11-30 00:30 in Berlin is Sunday 23:30 UTC: in Berlin the week has begun, in UTC not yet.
        let time = try #require(RFC3339.parse("2026-11-29T23:30:00Z"))
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        #expect(RFC3339.format(ProgrammeRules.weekStart(time, zone: berlin)) == "2026-11-29T23:00:00.000Z")
        #expect(RFC3339.format(ProgrammeRules.weekStart(time, zone: TimeZone(identifier: "UTC")!)) == "2026-11-23T00:00:00.000Z")
        // Against Foundation's calendar, over a year of hours in zones with and without daylight saving.
        for name in ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Pacific/Kiritimati", "UTC"] {
            let zone = try #require(TimeZone(identifier: name))
            var calendar = Calendar(identifier: .iso8601)
            calendar.timeZone = zone
            for hour in stride(from: 0, to: 366 * 24, by: 7) {
                let instant = time.addingTimeInterval(Double(hour) * 3600)
                #expect(
                    ProgrammeRules.weekStart(instant, zone: zone) == calendar.dateInterval(of: .weekOfYear, for: instant)?.start,
                    "\(name) \(instant)")
            }
        }
    }

    // MARK: - Payouts and value

    @Test("A payout pays every balance at or over the minimum; the value report prices what volunteers saved")
    func payoutsAndValue() throws {
        let lines = ProgrammeReports.payoutLines(
            [
                .init(helperId: "b", handle: "bea", points: 1000), .init(helperId: "a", handle: "al", points: 999),
                .init(helperId: "c", handle: "cem", points: 2500),
            ],
            programme: Self.programme
        )
        #expect(lines.map(\.handle) == ["bea", "cem"])
        let payout = Payout(
            id: "po_1", periodEnd: now, createdAt: now, createdBy: "h_admin", valuePerPoint: 0.01, currency: "GBP",
            minPoints: 1000, lines: lines
        )
        #expect(payout.totalPoints == 3500)
        #expect(payout.amount(2500) == 25)
        let error = #expect(throws: PatenError.self) {
            try ProgrammeReports.checkPeriodEnd(now.addingTimeInterval(1), at: now)
        }
        #expect(error?.code == "period_in_future")
        // Periods follow one another: one ending before the latest booked overlaps it; a later one is fine.
        let overlap = #expect(throws: PatenError.self) {
            try ProgrammeReports.checkAfterBooked(now.addingTimeInterval(-60), latest: now)
        }
        #expect(overlap?.code == "payout_period_overlaps")
        #expect(overlap?.kind == .conflict)
        #expect(throws: Never.self) { try ProgrammeReports.checkAfterBooked(now.addingTimeInterval(60), latest: now) }
        #expect(throws: Never.self) { try ProgrammeReports.checkAfterBooked(now, latest: nil) }
        let value = ProgrammeReports.value(
            [
                ProgrammeMonthTally(
                    month: "2026-11", resolvedWithoutStaff: 40, resolved: 50, volunteerRatings: 10, volunteerSatisfied: 9,
                    staffRatings: 4, staffSatisfied: 3, pointsPaid: 3500
                )
            ],
            programme: Self.programme
        )
        #expect(value[0].staffCostSaved == 240)
        #expect(value[0].paidValue == 35)
        #expect(value[0].net == 205)
        #expect(value[0].volunteerCsat == 0.9)
        #expect(value[0].staffCsat == 0.75)
    }
}
