import Foundation
import Logging
import PatenCore
import PatenStorage
import ServiceLifecycle
import UnixSignals

/// `paten worker`: the background services alone (lease expiry, escalation sweeper, webhook delivery, queue count fold, retention purge), no HTTP, until SIGTERM or
/// SIGINT.
public func runWorker(_ configuration: PatenConfiguration) async throws {
    LogOutput.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
    var logger = Logger(label: "paten-worker")
    logger.logLevel = configuration.logLevel
    try await PatenRuntime.with(configuration) { runtime in
        let group = ServiceGroup(
            configuration: .init(
                services: backgroundServices(runtime, logger: logger).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
            )
        )
        FileHandle.standardError.write(Data("paten worker running on \(runtime.store.location)\n".utf8))
        try await group.run()
    }
}

/// The background services every serving or working process runs.
public func backgroundServices(_ runtime: PatenRuntime, logger: Logger) -> [any Service] {
    let configuration = runtime.configuration
    return [
        ClaimLeaseExpiry(
            desk: runtime.desk, interval: configuration.leaseSweepInterval, clock: runtime.clock, logger: logger
        ),
        EscalationSweeper(desk: runtime.desk, interval: configuration.sweepInterval, clock: runtime.clock, logger: logger),
        WebhookDeliveryService(runtime: runtime, logger: logger),
        QueueCountFolder(console: runtime.store, interval: configuration.sweepInterval, clock: runtime.clock, logger: logger),
        RetentionPurge(privacy: runtime.privacy, interval: RetentionPurge.interval, clock: runtime.clock, logger: logger),
    ]
}

/// Benchmark helpers behind `paten dev`: seeding and timing one sweep.
public enum DevTools {
    /// Seeds `count` open questions with `duePercent` % of them due, as the `admin` account.
    public static func seed(
        _ configuration: PatenConfiguration, count: Int, duePercent: Double, spread: Bool = false
    ) async throws -> String {
        try await PatenRuntime.with(configuration) { runtime in
            _ = try await runtime.directory.bootstrapAdminIfEmpty()
            let admin = try await runtime.directory.helper(HelperDirectory.bootstrapHandle)
            let due = Int((Double(count) * duePercent / 100).rounded())
            let started = ContinuousClock.now
            let written = try await runtime.store.seedOpenQuestions(
                count: count, dueCount: due, spread: spread, createdBy: admin.id, at: runtime.clock.now()
            )
            return "seeded \(written) open questions (\(due) due) in \(ContinuousClock.now - started)"
        }
    }

    /// Runs one full sweep pass (every due clock, in batches) and reports how long it took.
    public static func sweepOnce(_ configuration: PatenConfiguration) async throws -> String {
        try await PatenRuntime.with(configuration) { runtime in
            let open = try await runtime.store.count("SELECT COUNT(*) FROM questions WHERE state <> 'resolved'")
            let sweeper = EscalationSweeper(
                desk: runtime.desk, interval: .seconds(1), clock: runtime.clock, logger: Logger(label: "paten-dev")
            )
            let started = ContinuousClock.now
            let outcome = await sweeper.tick()
            let elapsed = ContinuousClock.now - started
            // The next pass, as a running server's next tick finds it (connections open, nothing left due).
            let idleStarted = ContinuousClock.now
            await sweeper.tick()
            let idle = ContinuousClock.now - idleStarted
            let format = Duration.UnitsFormatStyle.units(allowed: [.milliseconds], fractionalPart: .show(length: 1))
            return "swept \(outcome.examined) due clocks (\(outcome.movedToStaff) moved to staff) among \(open) open "
                + "questions in \(elapsed.formatted(format)); the next pass took \(idle.formatted(format))"
        }
    }
}
