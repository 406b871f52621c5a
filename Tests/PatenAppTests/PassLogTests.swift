import Foundation
import GRDB
import Logging
import PatenCore
import PatenTestSupport
import ServiceLifecycle
import Synchronization
import Testing

@testable import PatenApp
@testable import PatenStorage

/// Keeps every record logged through it, for tests to read.
final class CapturedLog: Sendable {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])

    /// A logger that writes here, at every level.
    var logger: Logger {
        var logger = Logger(label: "captured") { _ in Handler(log: self) }
        logger.logLevel = .trace
        return logger
    }

    /// What was logged at `.info` or above, as "level message" lines.
    var lines: [String] {
        records.withLock { $0.filter { $0.level >= .info }.map { "\($0.level) \($0.message)" } }
    }

    func append(_ record: Record) { records.withLock { $0.append(record) } }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.append(
                CapturedLog.Record(
                    level: event.level, message: "\(event.message)",
                    metadata: (event.metadata ?? [:]).mapValues { "\($0)" }
                )
            )
        }
    }
}

@Suite("Background loops log a failure once per change of state")
struct PassLogTests {
    struct Failure: Error {}

    @Test("First failure at error level, silence while it repeats, again for another kind, one line on recovery")
    func states() async throws {
        let captured = CapturedLog()
        let passes = PassLog("test loop", logger: captured.logger)
        passes.succeeded()
        for _ in 0..<5 { passes.failed(PatenError(.unavailable, code: "database_busy", message: "busy")) }
        for _ in 0..<3 { passes.failed(Failure()) }
        #expect(await passes.watch { 42 } == 42)
        passes.succeeded()
        #expect(await passes.watch { throw Failure() } == Int?.none)
        #expect(
            captured.lines == [
                "error test loop failed", "error test loop failed", "info test loop recovered", "error test loop failed",
            ]
        )
    }

    @Test("A sweeper whose database keeps failing logs one error over many ticks, then one line when it recovers")
    func sweeperOnItsClock() async throws {
        try await withTestEnvironment { env in
            let store = try #require(env.store as? SQLiteStore)
            let captured = CapturedLog()
            let sweeper = EscalationSweeper(desk: env.desk, interval: .seconds(30), clock: env.clock, logger: captured.logger)
            let group = ServiceGroup(configuration: .init(services: [.init(service: sweeper)], logger: Logger(label: "test")))
            /// Lets the sweeper run one pass and waits until it is asleep again.
            func tick() async {
                while env.clock.sleeperCount == 0 { await Task.yield() }
                env.clock.advance(by: 30)
                while env.clock.sleeperCount == 0 { await Task.yield() }
            }
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                await tick()
                // Given a database whose table of clocks went missing
                try await store.pool.write { db in try db.execute(sql: "ALTER TABLE sla_timers RENAME TO sla_timers_away") }
                // When the sweeper ticks ten times
                for _ in 0..<10 { await tick() }
                // Then the failure is logged once
                #expect(captured.lines == ["error escalation sweep failed"])
                // And when the table is back, one line says so, and quiet ticks add nothing
                try await store.pool.write { db in try db.execute(sql: "ALTER TABLE sla_timers_away RENAME TO sla_timers") }
                for _ in 0..<3 { await tick() }
                #expect(captured.lines == ["error escalation sweep failed", "info escalation sweep recovered"])
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }
}
