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

    /// Creates a row; counters default to zero.
    public init(
        id: String, createdAt: Date, channel: String, topic: String, language: String, priority: Priority, tier: Tier,
        state: QuestionState, customerName: String, movedToStaffAt: Date? = nil, firstResponseAt: Date? = nil,
        nextResponseCount: Int = 0, nextResponseTotalMs: Int64 = 0, nextResponseMaxMs: Int64 = 0,
        resolvedAt: Date? = nil, resolverHandle: String? = nil, staffReplies: Int = 0, volunteerReplies: Int = 0,
        escalationReasons: [String] = [], clocks: [String: SLAStatus] = [:], ratingScore: Int? = nil,
        ratingComment: String? = nil, ratedHelperHandle: String? = nil, ratedHelperTier: Tier? = nil
    ) {
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
        Dictionary(grouping: rows) { key($0, by: grouping) }
            .map { key, rows in group(key, rows) }
            .sorted { $0.key < $1.key }
    }

    func group(_ key: String, _ rows: [QuestionMetrics]) -> MetricsGroup {
        let resolved = rows.filter { $0.state == .resolved }
        let scores = rows.compactMap(\.ratingScore)
        let firstClocks = rows.compactMap { $0.clocks[SLATarget.firstResponse.rawValue] }
            .filter { $0 == .met || $0 == .breached }
        func share(_ part: Int, _ whole: Int) -> Double? { whole == 0 ? nil : Double(part) / Double(whole) }
        return MetricsGroup(
            key: key, questions: rows.count, resolved: resolved.count, escalated: rows.filter(\.escalated).count,
            firstResponse: DurationStats(rows.compactMap(\.firstResponseSeconds)),
            firstResponseBusiness: DurationStats(rows.compactMap(firstResponseBusinessSeconds)),
            nextResponse: DurationStats(rows.compactMap(\.nextResponseMeanSeconds)),
            resolution: DurationStats(rows.compactMap(\.resolutionSeconds)),
            resolutionBusiness: DurationStats(rows.compactMap(resolutionBusinessSeconds)),
            firstResponseTargetsMet: firstClocks.filter { $0 == .met }.count,
            firstResponseTargetsMeasured: firstClocks.count,
            peerShare: share(resolved.filter(\.resolvedByPeers).count, resolved.count),
            escalationRate: share(rows.filter(\.escalated).count, rows.count),
            ratings: scores.count,
            csat: share(scores.filter { $0 >= 4 }.count, scores.count),
            meanScore: scores.isEmpty ? nil : Double(scores.reduce(0, +)) / Double(scores.count),
            ratingResponseRate: share(scores.count, resolved.count)
        )
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
