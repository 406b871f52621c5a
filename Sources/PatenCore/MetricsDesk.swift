import Foundation

/// Programme metrics for staff and admins: summaries over a period, and the per-question export in pages.
public struct MetricsDesk: Sendable {
    /// Rows read per database query while exporting.
    public static let pageSize = 1000
    /// The period used when none is given.
    public static let defaultPeriod: TimeInterval = 30 * 86400

    private let metrics: any MetricsRepository
    private let clock: any Clock
    public let calculator: MetricsCalculator

    /// Creates the desk.
    public init(metrics: any MetricsRepository, calendar: BusinessCalendar, clock: any Clock) {
        self.metrics = metrics
        self.clock = clock
        self.calculator = MetricsCalculator(calendar: calendar)
    }

    /// The period `[from, to)`, defaulting to the last 30 days; 400 when it is empty or reversed.
    public func period(from: Date?, to: Date?) throws -> (from: Date, to: Date) {
        try Self.period(from: from, to: to, now: clock.now())
    }

    /// The period `[from, to)` as of `now`, defaulting to the 30 days before it; 400 when it is empty or reversed.
    public static func period(from: Date?, to: Date?, now: Date) throws -> (from: Date, to: Date) {
        let end = to ?? now
        let start = from ?? end.addingTimeInterval(-Self.defaultPeriod)
        guard start < end else {
            throw PatenError.malformed("invalid_period", "'from' must be before 'to'.")
        }
        return (start, end)
    }

    /// One end of a period as a query gives it: an RFC 3339 time, or a date `YYYY-MM-DD` meaning that day's midnight
    /// UTC (so `to=2026-11-24` ends the period as the 24th begins, and the 23rd is the last day in it); nil otherwise.
    public static func periodBound(_ text: String) -> Date? {
        if let time = RFC3339.parse(text) { return time }
        return try? Date(text + "T00:00:00Z", strategy: .iso8601)
    }

    /// Summary figures for questions created in the period, by group.
    public func summary(
        from: Date, to: Date, by grouping: MetricsGrouping, for viewer: Helper
    ) async throws
        -> [MetricsGroup]
    {
        try Self.requireStaff(viewer)
        var accumulator = MetricsAccumulator(calculator: calculator, grouping: grouping)
        try await forEachPage(from: from, to: to) { page in
            for row in page { accumulator.add(row) }
        }
        return accumulator.groups()
    }

    /// Calls `body` with each page of questions created in the period, oldest first; memory stays at one page.
    public func forEachPage(from: Date, to: Date, _ body: ([QuestionMetrics]) async throws -> Void) async throws {
        var cursor: QuestionCursor?
        while true {
            let page = try await metrics.metricsRows(from: from, to: to, after: cursor, limit: Self.pageSize)
            if !page.isEmpty { try await body(page) }
            guard page.count == Self.pageSize, let last = page.last else { return }
            cursor = QuestionCursor(createdAt: last.createdAt, id: last.id)
        }
    }

    /// Claimable questions by tier now.
    public func queueDepth() async throws -> [Tier: Int] {
        try await metrics.queueDepth(at: clock.now())
    }

    /// Throws 403 unless the account is staff or an admin.
    public static func requireStaff(_ helper: Helper) throws {
        guard helper.role.isStaffOrAdmin else {
            throw PatenError.forbidden("staff_only", "Metrics are for staff and admins.")
        }
    }
}
