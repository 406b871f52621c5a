import Foundation

/// The volunteer programme's rules as pure decisions over a helper's standing: points with their caps, levels with
/// the low-water mark, badges, topic unlocks, the weekly budget, quiet hours and the auto-pause. The question
/// commands call them and turn what they decide into ledger rows, level changes, badges and escalations.
public enum ProgrammeRules {
    /// Midnight UTC of the day `now` falls in: the daily cap's day.
    public static func dayStart(_ now: Date) -> Date {
        let day = floor(now.timeIntervalSince1970 / 86400) * 86400
        return Date(timeIntervalSince1970: day)
    }

    /// The Monday 00:00 that starts the week `now` falls in, in the time zone. Computed from the zone's offsets,
    /// not with `Calendar`: every volunteer claim and queue read asks for it, and building a Foundation calendar
    /// for it took a large share of those requests on Linux.
    public static func weekStart(_ now: Date, zone: TimeZone) -> Date {
        let offset = Double(zone.secondsFromGMT(for: now))
        let localDays = floor((now.timeIntervalSince1970 + offset) / 86400)
        // 1970-01-01 was a Thursday: Monday is 0 when three days are added.
        let sinceMonday = (Int(localDays) % 7 + 7 + 3) % 7
        let localMidnight = (localDays - Double(sinceMonday)) * 86400
        // The offset at that Monday, which differs from now's across a daylight-saving change during the week.
        let guess = Date(timeIntervalSince1970: localMidnight - offset)
        return Date(timeIntervalSince1970: localMidnight - Double(zone.secondsFromGMT(for: guess)))
    }

    /// The minute of the day `now` is in the time zone.
    static func minuteOfDay(_ now: Date, zone: TimeZone) -> Int {
        let local = now.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: now))
        return Int((local - floor(local / 86400) * 86400) / 60)
    }

    /// The time zone a helper's week and quiet hours are counted in.
    public static func zone(of settings: ProgrammeSettings, default fallback: TimeZone) -> TimeZone {
        settings.timeZone.flatMap(TimeZone.init(identifier:)) ?? fallback
    }

    /// The needs that load whom's standing for a change made in `context`.
    public static func needs(
        _ whom: StandingNeeds.Whom, scope: StandingNeeds.Scope = .full, onlyIfClaimable: Bool = false,
        context: ChangeContext
    ) -> StandingNeeds {
        needs(whom, scope: scope, onlyIfClaimable: onlyIfClaimable, policy: context.planner.policy, now: context.now)
    }

    /// The needs that load whom's standing under the policy at `now`.
    public static func needs(
        _ whom: StandingNeeds.Whom, scope: StandingNeeds.Scope = .full, onlyIfClaimable: Bool = false, policy: Policy,
        now: Date
    ) -> StandingNeeds {
        let programme = policy.programme
        return StandingNeeds(
            whom: whom, scope: scope, onlyIfClaimable: onlyIfClaimable,
            lowRatingsSince: now.addingTimeInterval(-programme.pauseWindow),
            defaultTimeZone: policy.businessHours.timeZone, cappedReasons: cappedReasons(programme),
            lowRatingScore: programme.lowRatingScore
        )
    }

    /// Low ratings count towards a pause from the later of the window's start and the helper's last resumption:
    /// staff resuming a volunteer starts them afresh.
    public static func lowRatingsSince(_ needs: StandingNeeds, settings: ProgrammeSettings) -> Date {
        max(needs.lowRatingsSince, settings.resumedAt ?? .distantPast)
    }

    /// The scope that decides access to questions under the programme's unlocks.
    public static func accessScope(_ programme: Programme) -> StandingNeeds.Scope {
        .access(topicRecords: programme.unlocks.values.contains { $0.solvedInTopic != nil })
    }

    /// Whether a claim of the question by the helper gets as far as the programme's checks: not resolved, and free
    /// (or held by the helper, renewing). Other claims are refused first, so their programme facts are not loaded.
    public static func mayClaim(_ question: Question, by helperId: String, at now: Date) -> Bool {
        question.state != .resolved && (question.isClaimable(at: now) || question.holderId == helperId)
    }

    /// The reasons the daily cap counts: what is earned, less the exempt reasons and badges' one-time bonuses.
    public static func cappedReasons(_ programme: Programme) -> [PointReason] {
        [.acceptedAnswer, .goodRating, .confirmedSolved, .fastFirstReply].filter { !programme.capExempt.contains($0) }
    }

    // MARK: Points

    /// The points a reason earns the helper now, after the per-question cap and (for capped reasons) the daily cap;
    /// zero when the helper does not take part or the reason earns nothing.
    public static func allowance(_ reason: PointReason, for standing: HelperStanding, programme: Programme) -> Int {
        guard standing.takesPart, let amount = programme.points[reason], amount > 0 else { return 0 }
        // A badge's bonus is the helper's achievement, not the question's: it does not fill the question's cap.
        let onQuestion = standing.onQuestion.filter { $0.key != .badge }.values.reduce(0, +)
        var allowed = min(amount, max(0, programme.perQuestionCap - onQuestion))
        if cappedReasons(programme).contains(reason) {
            allowed = min(allowed, max(0, programme.dailyCap - standing.pointsToday))
        }
        return allowed
    }

    /// The net points the helper holds on the question for a reason that a reopening takes back.
    public static func reversible(_ reason: PointReason, in standing: HelperStanding) -> Int {
        guard let reversal = reason.reversal else { return 0 }
        return max(0, (standing.onQuestion[reason] ?? 0) + (standing.onQuestion[reversal] ?? 0))
    }

    // MARK: Levels and badges

    /// The level the standing earns: the highest whose thresholds are met, or the current one while the helper stays
    /// at or above the low-water mark of its thresholds (a level is lost only below 90 % of them, by default).
    public static func level(for standing: HelperStanding, programme: Programme) -> String? {
        guard let lowest = programme.levels.first else { return nil }
        var reached = lowest
        for level in programme.levels where standing.earned >= level.points && standing.accepted >= level.accepted {
            reached = level
        }
        if let currentId = standing.settings.level, let current = programme.level(currentId),
            programme.rank(of: currentId) > programme.rank(of: reached.id),
            Double(standing.earned) >= Double(current.points) * programme.lowWaterMark,
            Double(standing.accepted) >= Double(current.accepted) * programme.lowWaterMark
        {
            return current.id
        }
        return reached.id
    }

    /// A badge as held: its id, or `id:topic` for a topic badge.
    public static func key(_ badge: Programme.Badge, topic: String?) -> String {
        badge.inTopic ? "\(badge.id):\(topic ?? "")" : badge.id
    }

    /// Badges the standing has earned and does not hold yet, with the key each is held under; topic badges for
    /// `topic` only (the topic the change is about).
    public static func newBadges(
        for standing: HelperStanding, topic: String, programme: Programme
    ) -> [(badge: Programme.Badge, key: String)] {
        guard standing.takesPart else { return [] }
        return programme.badges.compactMap { badge in
            let key = key(badge, topic: topic)
            guard !standing.badges.contains(key) else { return nil }
            if badge.inTopic {
                let record = standing.topic(topic)
                guard record.solved >= badge.accepted else { return nil }
                if let minimum = badge.minAverageRating {
                    guard let average = record.averageRating, average >= minimum else { return nil }
                }
            } else if standing.accepted < badge.accepted {
                return nil
            }
            return (badge, key)
        }
    }

    // MARK: Topics

    /// Whether a volunteer may take questions of the topic: a staff grant or revocation decides, else the policy's
    /// unlock (a level, or a track record in the topic); topics without one are open. Staff and admins are never
    /// locked out.
    public static func isUnlocked(_ topic: String, for standing: HelperStanding, programme: Programme) -> Bool {
        guard standing.role == .volunteer else { return true }
        let record = standing.topic(topic)
        if let granted = record.granted { return granted }
        guard let unlock = programme.unlocks[topic] else { return true }
        if let level = unlock.level, programme.rank(of: standing.settings.level) >= programme.rank(of: level) {
            return true
        }
        if let solved = unlock.solvedInTopic, record.solved >= solved {
            guard let minimum = unlock.minAverageRating else { return true }
            if let average = record.averageRating, average >= minimum { return true }
        }
        return false
    }

    /// The topics a volunteer may not take, of those the policy names.
    public static func lockedTopics(for standing: HelperStanding, topics: [String], programme: Programme) -> [String] {
        topics.filter { !isUnlocked($0, for: standing, programme: programme) }
    }

    /// What a locked topic asks for, in words.
    public static func requirement(_ topic: String, programme: Programme) -> String {
        guard let unlock = programme.unlocks[topic] else { return "a grant from staff" }
        var ways: [String] = []
        if let level = unlock.level { ways.append("level \(level)") }
        if let solved = unlock.solvedInTopic {
            var way = "\(solved) accepted answer(s) in \(topic)"
            if let minimum = unlock.minAverageRating { way += " with an average rating of \(minimum) or more" }
            ways.append(way)
        }
        return ways.isEmpty ? "a grant from staff" : ways.joined(separator: " or ") + ", or a grant from staff"
    }

    // MARK: Protection

    /// Whether `now` falls in the helper's quiet hours.
    public static func inQuietHours(_ settings: ProgrammeSettings, at now: Date, defaultZone: TimeZone) -> Bool {
        guard let quiet = settings.quietHours else { return false }
        return quiet.contains(minuteOfDay: minuteOfDay(now, zone: zone(of: settings, default: defaultZone)))
    }

    /// The claims and hours left in the helper's week (nil: no limit).
    public static func budgetLeft(
        _ standing: HelperStanding, programme: Programme
    ) -> (claims: Int?, hours: Double?) {
        let claims = (standing.settings.weeklyClaims ?? programme.weeklyClaims).map { max(0, $0 - standing.claimsThisWeek) }
        let hours = (standing.settings.weeklyHours ?? programme.weeklyHours).map {
            max(0, $0 - standing.claimedSecondsThisWeek / 3600)
        }
        return (claims, hours)
    }

    /// Whether the volunteer may start a claim on a question of the topic now: not paused, not in quiet hours, within
    /// the week's budget, and the topic unlocked. Staff and admins are not limited.
    public static func checkClaim(
        _ standing: HelperStanding, topic: String, questionId: String, at now: Date, policy: Policy
    ) throws {
        guard standing.role == .volunteer else { return }
        let programme = policy.programme
        try checkNotPaused(standing)
        if inQuietHours(standing.settings, at: now, defaultZone: policy.businessHours.timeZone),
            let quiet = standing.settings.quietHours
        {
            throw PatenError.conflict(
                "quiet_hours",
                "It is within your quiet hours (\(QuietHours.text(quiet.start))-\(QuietHours.text(quiet.end))); no claims until they end.",
                details: ["until": QuietHours.text(quiet.end)]
            )
        }
        let left = budgetLeft(standing, programme: programme)
        if left.claims == 0 || left.hours == 0 {
            let limit =
                left.claims == 0
                ? "\(standing.settings.weeklyClaims ?? programme.weeklyClaims ?? 0) claims"
                : "\(standing.settings.weeklyHours ?? programme.weeklyHours ?? 0) hours"
            throw PatenError.conflict(
                "weekly_budget_reached",
                "You have reached this week's budget of \(limit); thank you. Claims open again on Monday.",
                details: ["budget": limit]
            )
        }
        if !isUnlocked(topic, for: standing, programme: programme) {
            throw PatenError(
                .forbidden, code: "topic_locked",
                message: "Question \(questionId) is in topic \(topic), which needs \(requirement(topic, programme: programme)).",
                details: ["topic": topic]
            )
        }
    }

    /// A paused volunteer claims, renews, replies to and resolves nothing until staff resume them.
    public static func checkNotPaused(_ standing: HelperStanding) throws {
        guard standing.role == .volunteer, standing.settings.pausedAt != nil else { return }
        throw PatenError.forbidden(
            "helper_paused", "You are paused after several low ratings; staff will resume you after a review."
        )
    }

    /// Whether a low rating pauses the volunteer: `lowRatings` counts it already.
    public static func pauses(_ standing: HelperStanding, programme: Programme) -> Bool {
        standing.takesPart && programme.pauseAfter > 0 && standing.settings.pausedAt == nil
            && standing.lowRatings >= programme.pauseAfter
    }
}

// The programme's steps in a question change.
extension QuestionChange {
    /// Books the points a reason earns (capped), updating the standing as the change leaves it.
    mutating func earn(_ reason: PointReason, _ standing: inout HelperStanding, context: ChangeContext) {
        let amount = ProgrammeRules.allowance(reason, for: standing, programme: context.planner.policy.programme)
        guard amount > 0 else { return }
        book(reason, amount, &standing, context: context)
    }

    /// Books a row of the ledger and counts it in the standing.
    mutating func book(_ reason: PointReason, _ amount: Int, _ standing: inout HelperStanding, context: ChangeContext) {
        effects.append(
            .points(
                LedgerEntry(
                    id: context.ids.make("pt"), helperId: standing.helperId, amount: amount, reason: reason,
                    questionId: question.id, topic: question.topic, at: context.now
                )
            )
        )
        standing.earned += amount
        standing.balance += amount
        standing.onQuestion[reason, default: 0] += amount
        let programme = context.planner.policy.programme
        if ProgrammeRules.cappedReasons(programme).contains(reason) { standing.pointsToday += amount }
    }

    /// After points or records changed: awards new badges (with their bonus) and moves the level, each with its
    /// timeline fact.
    mutating func settle(_ standing: inout HelperStanding, context: ChangeContext) {
        let programme = context.planner.policy.programme
        guard standing.takesPart else { return }
        for (badge, key) in ProgrammeRules.newBadges(for: standing, topic: question.topic, programme: programme) {
            standing.badges.insert(key)
            effects.append(.badge(helperId: standing.helperId, key: key, at: context.now))
            var data = ["helper_id": standing.helperId, "badge": badge.id, "name": badge.name]
            if badge.inTopic { data["topic"] = question.topic }
            addEvent(.badgeAwarded, actor: nil, at: context.now, data)
            if badge.points > 0 {
                book(.badge, badge.points, &standing, context: context)
            }
        }
        let level = ProgrammeRules.level(for: standing, programme: programme)
        if let level, level != standing.settings.level {
            let before = standing.settings.level
            standing.settings.level = level
            effects.append(.setLevel(helperId: standing.helperId, level: level))
            // A helper's first level is where everyone starts; only a move is news.
            if before != nil || programme.rank(of: level) > 0 {
                addEvent(
                    .levelChanged, actor: nil, at: context.now,
                    ["helper_id": standing.helperId, "level": level, "from_level": before ?? programme.levels[0].id]
                )
            }
        }
    }
}
