import Logging
import PatenCore
import ServiceLifecycle

/// Frees questions whose claim lease ran out, every `interval`, so they return to the queue even when nobody
/// touches them. Stops at graceful shutdown.
public struct ClaimLeaseExpiry: Service {
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
        passes = PassLog("claim lease expiry", logger: logger)
    }

    public func run() async throws {
        await runPeriodically(every: interval, on: clock) { await tick() }
    }

    /// One pass: ends every lease that is due, in batches.
    public func tick() async {
        await passes.watch {
            var ended = 0
            repeat {
                ended = try await desk.expireLeases(limit: 500)
                if ended > 0 { logger.info("claim leases expired", metadata: ["count": "\(ended)"]) }
            } while ended == 500
        }
    }
}
