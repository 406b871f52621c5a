import Logging
import PatenCore
import ServiceLifecycle

/// Folds the queue count changes PostgreSQL's triggers record into the counts the console's overview reads, every
/// `interval`, so that what the overview sums stays a few rows. (SQLite counts directly; its pass does nothing.)
/// Several instances fold side by side: each takes changes no other holds.
public struct QueueCountFolder: Service {
    /// Changes folded per statement.
    static let batch = 10000

    let console: any ConsoleRepository
    let interval: Duration
    let clock: any Clock
    let passes: PassLog

    /// Creates the service; it waits on `clock` between passes.
    public init(console: any ConsoleRepository, interval: Duration, clock: any Clock, logger: Logger) {
        self.console = console
        self.interval = interval
        self.clock = clock
        passes = PassLog("queue count fold", logger: logger)
    }

    public func run() async throws {
        await runPeriodically(every: interval, on: clock) { await tick() }
    }

    /// One pass: folds every recorded change, in batches; returns how many.
    @discardableResult
    public func tick() async -> Int {
        await passes.watch {
            var total = 0
            while true {
                let folded = try await console.foldQueueCounts(limit: Self.batch)
                total += folded
                if folded < Self.batch { return total }
            }
        } ?? 0
    }
}
