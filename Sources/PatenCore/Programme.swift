import Foundation

/// The volunteer programme's settings (the policy's `programme` section): what earns points and how many, the
/// caps, the levels, badges and topic unlocks, the protections (weekly budget, auto-pause, probation), payouts and
/// what a staff answer costs. Every value has a default, so a policy without the section runs the programme as
/// `Programme.standard`.
public struct Programme: Sendable, Equatable {
    /// A level: reached with at least `points` earned and `accepted` accepted answers.
    public struct Level: Sendable, Equatable {
        public var id: String
        public var points: Int
        public var accepted: Int

        /// Creates a level.
        public init(id: String, points: Int, accepted: Int) {
            self.id = id
            self.points = points
            self.accepted = accepted
        }
    }

    /// A badge of the catalogue: for `accepted` accepted answers in all, or (with `inTopic`) that many in one topic
    /// with an average rating there of at least `minAverageRating`. Awarded once (per topic for a topic badge),
    /// with `points` as a one-time bonus.
    public struct Badge: Sendable, Equatable {
        public var id: String
        public var name: String
        public var accepted: Int
        public var inTopic: Bool
        public var minAverageRating: Double?
        public var points: Int

        /// Creates a badge.
        public init(
            id: String, name: String, accepted: Int, inTopic: Bool = false, minAverageRating: Double? = nil,
            points: Int = 0
        ) {
            self.id = id
            self.name = name
            self.accepted = accepted
            self.inTopic = inTopic
            self.minAverageRating = minAverageRating
            self.points = points
        }
    }

    /// What a topic requires of a volunteer: a level, or a track record in it (accepted answers there and an average
    /// rating). With both, either is enough.
    public struct Unlock: Sendable, Equatable {
        public var level: String?
        public var solvedInTopic: Int?
        public var minAverageRating: Double?

        /// Creates an unlock rule.
        public init(level: String? = nil, solvedInTopic: Int? = nil, minAverageRating: Double? = nil) {
            self.level = level
            self.solvedInTopic = solvedInTopic
            self.minAverageRating = minAverageRating
        }
    }

    /// Points per reason; a reason left out (or at zero) earns nothing.
    public var points: [PointReason: Int]
    /// Points a helper may earn in a UTC day, reasons in `capExempt` aside.
    public var dailyCap: Int
    /// Reasons the daily cap does not count. Stack Exchange leaves accepted answers out because someone else accepts
    /// them; in Paten a volunteer may resolve with their own reply, so by default every reason counts, and an
    /// answer farm stops at the cap.
    public var capExempt: Set<PointReason>
    /// Points one helper may earn from one question, the accepted answer included.
    public var perQuestionCap: Int
    /// Levels from the lowest (which needs nothing) up.
    public var levels: [Level]
    /// A level is kept until the helper falls below this share of its thresholds (Discourse's low-water mark).
    public var lowWaterMark: Double
    public var badges: [Badge]
    /// Topic unlocks by topic name.
    public var unlocks: [String: Unlock]
    /// Claims a volunteer may start in a week (nil: no limit); a helper's own setting overrides it.
    public var weeklyClaims: Int?
    /// Hours a volunteer may hold questions in a week (nil: no limit); a helper's own setting overrides it.
    public var weeklyHours: Double?
    /// Ratings of `lowRatingScore` or less that pause a volunteer when `pauseAfter` of them fall within
    /// `pauseWindow` (0 turns auto-pause off).
    public var pauseAfter: Int
    public var pauseWindow: TimeInterval
    public var lowRatingScore: Int
    /// A new volunteer's first this many accepted answers raise a `probation_review` escalation (0: none).
    public var probationAnswers: Int
    /// Payouts: the least balance paid, what a point is worth, and in which currency.
    public var payoutMinPoints: Int
    public var valuePerPoint: Double
    public var currency: String
    /// What answering a question costs when staff do it, in `currency`, for the programme's value report.
    public var staffCostPerQuestion: Double

    /// Creates settings; see `standard` for the defaults.
    public init(
        points: [PointReason: Int], dailyCap: Int, capExempt: Set<PointReason>, perQuestionCap: Int, levels: [Level],
        lowWaterMark: Double = 0.9, badges: [Badge], unlocks: [String: Unlock] = [:], weeklyClaims: Int?,
        weeklyHours: Double?, pauseAfter: Int, pauseWindow: TimeInterval, lowRatingScore: Int = 2,
        probationAnswers: Int, payoutMinPoints: Int, valuePerPoint: Double, currency: String,
        staffCostPerQuestion: Double
    ) {
        self.points = points
        self.dailyCap = dailyCap
        self.capExempt = capExempt
        self.perQuestionCap = perQuestionCap
        self.levels = levels
        self.lowWaterMark = lowWaterMark
        self.badges = badges
        self.unlocks = unlocks
        self.weeklyClaims = weeklyClaims
        self.weeklyHours = weeklyHours
        self.pauseAfter = pauseAfter
        self.pauseWindow = pauseWindow
        self.lowRatingScore = lowRatingScore
        self.probationAnswers = probationAnswers
        self.payoutMinPoints = payoutMinPoints
        self.valuePerPoint = valuePerPoint
        self.currency = currency
        self.staffCostPerQuestion = staffCostPerQuestion
    }

    /// The defaults, from what giffgaff, Discourse, Stack Exchange and crisis lines do (see docs/programme.md).
    public static let standard = Programme(
        points: [.acceptedAnswer: 15, .goodRating: 5, .confirmedSolved: 5, .fastFirstReply: 2],
        dailyCap: 200, capExempt: [], perQuestionCap: 30,
        levels: [
            Level(id: "newcomer", points: 0, accepted: 0), Level(id: "helper", points: 100, accepted: 5),
            Level(id: "expert", points: 1000, accepted: 50), Level(id: "champion", points: 5000, accepted: 250),
        ],
        badges: [
            Badge(id: "first_answer", name: "First accepted answer", accepted: 1, points: 10),
            Badge(id: "ten_solved", name: "Ten questions solved", accepted: 10, points: 20),
            Badge(id: "hundred_solved", name: "A hundred questions solved", accepted: 100),
            Badge(id: "topic_expert", name: "Topic expert", accepted: 20, inTopic: true, minAverageRating: 4.0),
        ],
        weeklyClaims: nil, weeklyHours: 12, pauseAfter: 3, pauseWindow: 14 * 86400, probationAnswers: 5,
        payoutMinPoints: 1000, valuePerPoint: 0.01, currency: "GBP", staffCostPerQuestion: 6.0
    )

    /// The level with the id, if the programme has it.
    public func level(_ id: String) -> Level? { levels.first { $0.id == id } }

    /// Where the level stands among the levels (0 the lowest); an unknown id (a level removed from the policy) counts
    /// as the lowest.
    public func rank(of id: String?) -> Int { id.flatMap { id in levels.firstIndex { $0.id == id } } ?? 0 }
}

/// Why points were booked. Reversals and payouts are rows of their own, never edits.
public enum PointReason: String, Codable, Sendable, CaseIterable {
    /// The helper's reply was the answer a question was resolved with.
    case acceptedAnswer = "accepted_answer"
    /// The customer rated the credited answer 4 or 5.
    case goodRating = "good_rating"
    /// The customer said the answer solved the problem.
    case confirmedSolved = "confirmed_solved"
    /// The helper's reply was the question's first, within the peer window.
    case fastFirstReply = "fast_first_reply"
    /// A badge's one-time bonus.
    case badge
    /// The question was reopened: its accepted answer's and "solved" points are taken back.
    case acceptedAnswerReversed = "accepted_answer_reversed"
    case confirmedSolvedReversed = "confirmed_solved_reversed"
    /// Points paid out in a payout batch.
    case payout

    /// The reason a reopening books against this one, if it is taken back then.
    public var reversal: PointReason? {
        switch self {
        case .acceptedAnswer: .acceptedAnswerReversed
        case .confirmedSolved: .confirmedSolvedReversed
        default: nil
        }
    }

    /// The reason a reversal takes back.
    public var reversed: PointReason? {
        switch self {
        case .acceptedAnswerReversed: .acceptedAnswer
        case .confirmedSolvedReversed: .confirmedSolved
        default: nil
        }
    }
}

/// One row of the points ledger.
public struct LedgerEntry: Sendable, Equatable {
    public var id: String
    public var helperId: String
    public var amount: Int
    public var reason: PointReason
    public var questionId: String?
    public var topic: String?
    public var payoutId: String?
    public var at: Date

    /// Creates an entry.
    public init(
        id: String, helperId: String, amount: Int, reason: PointReason, questionId: String?, topic: String?,
        payoutId: String? = nil, at: Date
    ) {
        self.id = id
        self.helperId = helperId
        self.amount = amount
        self.reason = reason
        self.questionId = questionId
        self.topic = topic
        self.payoutId = payoutId
        self.at = at
    }
}

/// A volunteer's quiet hours: minutes of the day in their time zone, from `start` up to `end` (wrapping past
/// midnight when `end` is earlier).
public struct QuietHours: Sendable, Equatable {
    public var start: Int
    public var end: Int

    /// Creates quiet hours.
    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// Parses "HH:MM"; nil when it is not a time of day.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hours = Int(parts[0]),
            let minutes = Int(parts[1]), (0..<24).contains(hours), (0..<60).contains(minutes)
        else { return nil }
        return hours * 60 + minutes
    }

    /// "HH:MM" for minutes of the day.
    public static func text(_ minutes: Int) -> String {
        String(format: "%02d:%02d", minutes / 60, minutes % 60)
    }

    /// Whether the minute of the day falls in the quiet hours.
    public func contains(minuteOfDay minute: Int) -> Bool {
        start <= end ? (start..<end).contains(minute) : minute >= start || minute < end
    }
}

/// What a helper chose or was given in the programme, stored with the helper.
public struct ProgrammeSettings: Sendable, Equatable {
    /// The level as last recomputed; nil before the first.
    public var level: String?
    public var pausedAt: Date?
    /// When staff last resumed the helper: low ratings before it no longer count towards a pause.
    public var resumedAt: Date?
    public var timeZone: String?
    public var quietHours: QuietHours?
    /// The helper's own weekly budget, overriding the policy's.
    public var weeklyClaims: Int?
    public var weeklyHours: Double?

    /// Creates settings.
    public init(
        level: String? = nil, pausedAt: Date? = nil, resumedAt: Date? = nil, timeZone: String? = nil,
        quietHours: QuietHours? = nil, weeklyClaims: Int? = nil, weeklyHours: Double? = nil
    ) {
        self.level = level
        self.pausedAt = pausedAt
        self.resumedAt = resumedAt
        self.timeZone = timeZone
        self.quietHours = quietHours
        self.weeklyClaims = weeklyClaims
        self.weeklyHours = weeklyHours
    }
}

/// A helper's record in one topic.
public struct TopicRecord: Sendable, Equatable {
    /// Accepted answers in the topic.
    public var solved: Int
    public var ratingSum: Int
    public var ratingCount: Int
    /// Staff's grant (true) or revocation (false) of the topic; nil: the policy decides.
    public var granted: Bool?

    /// Creates a record.
    public init(solved: Int = 0, ratingSum: Int = 0, ratingCount: Int = 0, granted: Bool? = nil) {
        self.solved = solved
        self.ratingSum = ratingSum
        self.ratingCount = ratingCount
        self.granted = granted
    }

    /// The average rating in the topic; nil before the first.
    public var averageRating: Double? { ratingCount == 0 ? nil : Double(ratingSum) / Double(ratingCount) }
}

/// Everything the programme's rules read about one helper, loaded by a store under the helper's lock in the
/// transaction that applies the change (so two instances never both spend the last of a daily cap).
public struct HelperStanding: Sendable, Equatable {
    public var helperId: String
    public var role: Role
    public var settings: ProgrammeSettings
    /// Points earned, reversals included, payouts not (levels follow what was earned, not what is left).
    public var earned: Int
    /// Points booked and not yet paid out.
    public var balance: Int
    /// Questions resolved with this helper's answer.
    public var accepted: Int
    /// Points of the capped reasons booked in the current UTC day.
    public var pointsToday: Int
    /// Net points from the change's question, by reason.
    public var onQuestion: [PointReason: Int]
    /// Badges held: an id, or `id:topic` for a topic badge.
    public var badges: Set<String>
    /// The helper's record by topic (topics with nothing recorded are absent).
    public var topics: [String: TopicRecord]
    /// Low ratings since the later of the pause window's start and the last resumption.
    public var lowRatings: Int
    /// Claims started in the current week (Monday to Monday in the policy's business-hours zone, which a helper
    /// cannot move) and seconds held under them.
    public var claimsThisWeek: Int
    public var claimedSecondsThisWeek: Double

    /// Creates a standing; the defaults are a new helper's.
    public init(
        helperId: String, role: Role, settings: ProgrammeSettings = ProgrammeSettings(), earned: Int = 0,
        balance: Int = 0, accepted: Int = 0, pointsToday: Int = 0, onQuestion: [PointReason: Int] = [:],
        badges: Set<String> = [], topics: [String: TopicRecord] = [:], lowRatings: Int = 0, claimsThisWeek: Int = 0,
        claimedSecondsThisWeek: Double = 0
    ) {
        self.helperId = helperId
        self.role = role
        self.settings = settings
        self.earned = earned
        self.balance = balance
        self.accepted = accepted
        self.pointsToday = pointsToday
        self.onQuestion = onQuestion
        self.badges = badges
        self.topics = topics
        self.lowRatings = lowRatings
        self.claimsThisWeek = claimsThisWeek
        self.claimedSecondsThisWeek = claimedSecondsThisWeek
    }

    /// Whether the helper takes part in the programme: volunteers do; staff are paid.
    public var takesPart: Bool { role == .volunteer }

    public func topic(_ name: String) -> TopicRecord { topics[name] ?? TopicRecord() }
}

/// Which helper's standing a command needs, and the windows it is counted over.
public struct StandingNeeds: Sendable, Equatable {
    /// Whose standing to load.
    public enum Whom: Sendable, Equatable {
        case helper(String)
        /// The author of the named answer, else of the latest helper reply (who a resolution credits).
        case answerer
        /// The helper the question is credited to (a reopening takes their points back).
        case credited
        /// The helper the rating link credits.
        case rated
    }

    /// How much of the standing to load.
    public enum Scope: Sendable, Equatable {
        /// Everything: points, badges, records, low ratings, the week (changes that book points).
        case full
        /// What decides access to questions: settings, the week, staff grants, and (with `topicRecords`, when an
        /// unlock asks for a track record) each topic's accepted answers and ratings. Claims and the queue read only
        /// this: a claim is on the hot path, and most claims in a race are refused before the programme is asked.
        case access(topicRecords: Bool)
    }

    public var whom: Whom
    public var scope: Scope
    /// Load nothing when the question cannot be claimed by the helper anyway (see `ProgrammeRules.mayClaim`): a
    /// claim refused as taken or resolved never reads the programme.
    public var onlyIfClaimable: Bool
    /// Low ratings count from here (or from the helper's last resumption, if later).
    public var lowRatingsSince: Date
    /// The time zone that counts a week for a helper who set none.
    public var defaultTimeZone: TimeZone
    /// The reasons the daily cap counts.
    public var cappedReasons: [PointReason]
    /// A rating of this score or less is a low one.
    public var lowRatingScore: Int

    /// The helper whose standing to load, from what the store has loaded of the snapshot so far (with
    /// `SnapshotNeeds.answerId` the named answer's author, else the latest replier) and, for a rating, the helper the
    /// link credits; nil when there is nobody (no helper replied, say).
    public func helperId(in snapshot: QuestionSnapshot, answerNamed: Bool, rated: String?) -> String? {
        switch whom {
        case .helper(let id): id
        case .answerer: answerNamed ? snapshot.answer?.id : snapshot.lastReplier?.id
        case .credited: snapshot.record.tallies.creditedHelperId
        case .rated: rated
        }
    }

    /// Creates needs.
    public init(
        whom: Whom, scope: Scope = .full, onlyIfClaimable: Bool = false, lowRatingsSince: Date,
        defaultTimeZone: TimeZone, cappedReasons: [PointReason], lowRatingScore: Int
    ) {
        self.whom = whom
        self.scope = scope
        self.onlyIfClaimable = onlyIfClaimable
        self.lowRatingsSince = lowRatingsSince
        self.defaultTimeZone = defaultTimeZone
        self.cappedReasons = cappedReasons
        self.lowRatingScore = lowRatingScore
    }
}
