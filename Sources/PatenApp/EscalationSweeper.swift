import Logging
import PatenCore
import ServiceLifecycle

/// The escalation engine: every `interval` it acts on the clocks that are due (peer windows that ran out, staff
/// targets near or past breach). Each pass reads only due clocks through an index, so its cost follows the work
/// due, not the number of open questions. Stops at graceful shutdown.
public struct EscalationSweeper: Service {
    /// Clocks handled per transaction.
    static let batch = 500

    let desk: SupportDesk
    let interval: Duration
    let clock: any Clock
    let logger: Logger
    let passes: PassLog

    /// Creates the service; it waits on `clock` between passes.
    public init(desk: SupportDesk, interval: Duration, clock: any Clock, logger: Logger) {
        self.desk = desk
        self.interval = interval
        self.clock = clock
        self.logger = logger
        passes = PassLog("escalation sweep", logger: logger)
    }

    public func run() async throws {
        await runPeriodically(every: interval, on: clock) { await tick() }
    }

    /// One pass: handles every clock that is due, in batches; returns what it did.
    @discardableResult
    public func tick() async -> SweepOutcome {
        await passes.watch { try await sweepDue() } ?? SweepOutcome()
    }

    private func sweepDue() async throws -> SweepOutcome {
        var total = SweepOutcome()
        var outcome: SweepOutcome
        repeat {
            outcome = try await desk.sweep(limit: Self.batch)
            total.examined += outcome.examined
            total.movedToStaff += outcome.movedToStaff
            total.warnings += outcome.warnings
            total.breaches += outcome.breaches
        } while outcome.examined == Self.batch
        if total.examined > 0 {
            logger.info(
                "escalation sweep",
                metadata: [
                    "examined": "\(total.examined)", "moved": "\(total.movedToStaff)",
                    "warnings": "\(total.warnings)", "breaches": "\(total.breaches)",
                ]
            )
        }
        return total
    }
}
