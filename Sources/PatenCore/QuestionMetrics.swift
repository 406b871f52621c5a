import Foundation

/// One question's facts for metrics and export, read from the counters and clocks written with its timeline.
public struct QuestionMetrics: Sendable, Equatable {
    public var id: String
    public var createdAt: Date
    public var channel: String
    public var topic: String
    public var language: String
    public var priority: Priority
    public var tier: Tier
    public var state: QuestionState
    public var customerName: String
    public var movedToStaffAt: Date?
    public var firstResponseAt: Date?
    /// Helper replies that answered a customer follow-up, and their total and longest wait, in milliseconds.
    public var nextResponseCount: Int
    public var nextResponseTotalMs: Int64
    public var nextResponseMaxMs: Int64
    public var resolvedAt: Date?
    public var resolverHandle: String?
    public var staffReplies: Int
    public var volunteerReplies: Int
    /// Escalation reasons in the order they were raised.
    public var escalationReasons: [String]
    /// Clock outcomes by target (`peer_window`, `first_response`, `next_response`, `resolution`).
    public var clocks: [String: SLAStatus]
    public var ratingScore: Int?
    public var ratingComment: String?
    public var ratedHelperHandle: String?
    public var ratedHelperTier: Tier?
    /// Who the resolution credits (the answer's author), and the net points booked on the question.
    public var creditedHelperHandle: String?
    public var points: Int

    /// Creates a row; counters default to zero.
    public init(
        id: String, createdAt: Date, channel: String, topic: String, language: String, priority: Priority, tier: Tier,
        state: QuestionState, customerName: String, movedToStaffAt: Date? = nil, firstResponseAt: Date? = nil,
        nextResponseCount: Int = 0, nextResponseTotalMs: Int64 = 0, nextResponseMaxMs: Int64 = 0,
        resolvedAt: Date? = nil, resolverHandle: String? = nil, staffReplies: Int = 0, volunteerReplies: Int = 0,
        escalationReasons: [String] = [], clocks: [String: SLAStatus] = [:], ratingScore: Int? = nil,
        ratingComment: String? = nil, ratedHelperHandle: String? = nil, ratedHelperTier: Tier? = nil,
        creditedHelperHandle: String? = nil, points: Int = 0
    ) {
        self.creditedHelperHandle = creditedHelperHandle
        self.points = points
        self.id = id
        self.createdAt = createdAt
        self.channel = channel
        self.topic = topic
        self.language = language
        self.priority = priority
        self.tier = tier
        self.state = state
        self.customerName = customerName
        self.movedToStaffAt = movedToStaffAt
        self.firstResponseAt = firstResponseAt
        self.nextResponseCount = nextResponseCount
        self.nextResponseTotalMs = nextResponseTotalMs
        self.nextResponseMaxMs = nextResponseMaxMs
        self.resolvedAt = resolvedAt
        self.resolverHandle = resolverHandle
        self.staffReplies = staffReplies
        self.volunteerReplies = volunteerReplies
        self.escalationReasons = escalationReasons
        self.clocks = clocks
        self.ratingScore = ratingScore
        self.ratingComment = ratingComment
        self.ratedHelperHandle = ratedHelperHandle
        self.ratedHelperTier = ratedHelperTier
    }

    /// Seconds from submission to the first helper reply.
    public var firstResponseSeconds: Double? { firstResponseAt.map { $0.timeIntervalSince(createdAt) } }
    /// Seconds from submission to resolution.
    public var resolutionSeconds: Double? { resolvedAt.map { $0.timeIntervalSince(createdAt) } }
    /// Mean wait for a reply after a customer follow-up, in seconds.
    public var nextResponseMeanSeconds: Double? {
        nextResponseCount == 0 ? nil : Double(nextResponseTotalMs) / Double(nextResponseCount) / 1000
    }
    /// Resolved with no reply from staff: the peer community solved it.
    public var resolvedByPeers: Bool { state == .resolved && staffReplies == 0 }
    /// Escalated at least once.
    public var escalated: Bool { !escalationReasons.isEmpty }
}

/// Median, 90th percentile and mean of a set of durations, in seconds.
public struct DurationStats: Codable, Sendable, Equatable {
    public var count: Int
    public var median: Double?
    public var p90: Double?
    public var mean: Double?

    /// The statistics of the samples: the median is the middle value (mean of the two middle ones for an even
    /// count); the 90th percentile is the nearest-rank value.
    public init(_ samples: [Double]) {
        count = samples.count
        guard !samples.isEmpty else { return }
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        p90 = sorted[max(0, Int((0.9 * Double(sorted.count)).rounded(.up)) - 1)]
        mean = sorted.reduce(0, +) / Double(sorted.count)
    }
}

/// A group's figures in a metrics summary.
public struct MetricsGroup: Codable, Sendable, Equatable {
    /// The group's key: a helper handle, tier, topic, channel, day (YYYY-MM-DD, UTC), or `all`.
    public var key: String
    public var questions: Int
    public var resolved: Int
    public var escalated: Int
    public var firstResponse: DurationStats
    public var firstResponseBusiness: DurationStats
    /// Per-question mean next response times.
    public var nextResponse: DurationStats
    public var resolution: DurationStats
    public var resolutionBusiness: DurationStats
    /// Staff first-response clocks met, and met or breached.
    public var firstResponseTargetsMet: Int
    public var firstResponseTargetsMeasured: Int
    /// Share of resolved questions resolved with no staff reply.
    public var peerShare: Double?
    /// Share of questions escalated at least once.
    public var escalationRate: Double?
    public var ratings: Int
    /// Share of ratings that are 4 or 5.
    public var csat: Double?
    public var meanScore: Double?
    /// Ratings per resolved question.
    public var ratingResponseRate: Double?
}

/// What a summary groups by.
public enum MetricsGrouping: String, Sendable, CaseIterable {
    case all, helper, tier, topic, channel, day
}

/// Turns question rows into summary figures. Pure: the calendar is the policy's business hours.
public struct MetricsCalculator: Sendable {
    public let calendar: BusinessCalendar

    /// Creates a calculator on the staff calendar.
    public init(calendar: BusinessCalendar) {
        self.calendar = calendar
    }

    /// Business seconds from submission to the first reply.
    public func firstResponseBusinessSeconds(_ row: QuestionMetrics) -> Double? {
        row.firstResponseAt.map { calendar.businessSeconds(from: row.createdAt, to: $0) }
    }

    /// Business seconds from submission to resolution.
    public func resolutionBusinessSeconds(_ row: QuestionMetrics) -> Double? {
        row.resolvedAt.map { calendar.businessSeconds(from: row.createdAt, to: $0) }
    }

    /// The group key of a row.
    public func key(_ row: QuestionMetrics, by grouping: MetricsGrouping) -> String {
        switch grouping {
        case .all: "all"
        case .helper: row.resolverHandle ?? "(unresolved)"
        case .tier: row.tier.rawValue
        case .topic: row.topic
        case .channel: row.channel
        case .day: String(APIDay.format(row.createdAt))
        }
    }

    /// Summary figures per group, ordered by key.
    public func summarize(_ rows: [QuestionMetrics], by grouping: MetricsGrouping) -> [MetricsGroup] {
        var accumulator = MetricsAccumulator(calculator: self, grouping: grouping)
        for row in rows { accumulator.add(row) }
        return accumulator.groups()
    }
}

/// Builds a summary one row at a time, keeping only counters and the duration samples the medians need, so a
/// summary of a million questions holds a few numbers per question rather than the rows.
public struct MetricsAccumulator: Sendable {
    struct Group: Sendable {
        var questions = 0
        var resolved = 0
        var escalated = 0
        var firstResponse: [Double] = []
        var firstResponseBusiness: [Double] = []
        var nextResponse: [Double] = []
        var resolution: [Double] = []
        var resolutionBusiness: [Double] = []
        var targetsMet = 0
        var targetsMeasured = 0
        var resolvedByPeers = 0
        var scores: [Int] = []
    }

    let calculator: MetricsCalculator
    let grouping: MetricsGrouping
    var byKey: [String: Group] = [:]

    /// Creates an empty accumulator.
    public init(calculator: MetricsCalculator, grouping: MetricsGrouping) {
        self.calculator = calculator
        self.grouping = grouping
    }

    /// Adds one question.
    public mutating func add(_ row: QuestionMetrics) {
        let key = calculator.key(row, by: grouping)
        var group = byKey[key] ?? Group()
        group.questions += 1
        if row.state == .resolved { group.resolved += 1 }
        if row.escalated { group.escalated += 1 }
        if let value = row.firstResponseSeconds { group.firstResponse.append(value) }
        if let value = calculator.firstResponseBusinessSeconds(row) { group.firstResponseBusiness.append(value) }
        if let value = row.nextResponseMeanSeconds { group.nextResponse.append(value) }
        if let value = row.resolutionSeconds { group.resolution.append(value) }
        if let value = calculator.resolutionBusinessSeconds(row) { group.resolutionBusiness.append(value) }
        switch row.clocks[SLATarget.firstResponse.rawValue] {
        case .met:
            group.targetsMet += 1
            group.targetsMeasured += 1
        case .breached: group.targetsMeasured += 1
        default: break
        }
        if row.resolvedByPeers { group.resolvedByPeers += 1 }
        if let score = row.ratingScore { group.scores.append(score) }
        byKey[key] = group
    }

    /// The figures per group, ordered by key.
    public func groups() -> [MetricsGroup] {
        func share(_ part: Int, _ whole: Int) -> Double? { whole == 0 ? nil : Double(part) / Double(whole) }
        return byKey.sorted { $0.key < $1.key }.map { key, group in
            MetricsGroup(
                key: key, questions: group.questions, resolved: group.resolved, escalated: group.escalated,
                firstResponse: DurationStats(group.firstResponse),
                firstResponseBusiness: DurationStats(group.firstResponseBusiness),
                nextResponse: DurationStats(group.nextResponse), resolution: DurationStats(group.resolution),
                resolutionBusiness: DurationStats(group.resolutionBusiness), firstResponseTargetsMet: group.targetsMet,
                firstResponseTargetsMeasured: group.targetsMeasured,
                peerShare: share(group.resolvedByPeers, group.resolved),
                escalationRate: share(group.escalated, group.questions), ratings: group.scores.count,
                csat: share(group.scores.filter { $0 >= 4 }.count, group.scores.count),
                meanScore: group.scores.isEmpty ? nil : Double(group.scores.reduce(0, +)) / Double(group.scores.count),
                ratingResponseRate: share(group.scores.count, group.resolved)
            )
        }
    }
}

/// Calendar days in UTC, as metrics group and filter them.
public enum APIDay {
    /// `YYYY-MM-DD` of the instant in UTC.
    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day())
    }
}

/// Reads question metrics rows.
public protocol MetricsRepository: Sendable {
    /// Questions created in `[from, to)`, oldest first, after the cursor, at most `limit`.
    func metricsRows(from: Date, to: Date, after: QuestionCursor?, limit: Int) async throws -> [QuestionMetrics]
    /// Claimable questions by tier (open, or held under a lease that ran out).
    func queueDepth(at now: Date) async throws -> [Tier: Int]
}
