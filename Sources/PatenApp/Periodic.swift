import Foundation
import Logging
import PatenCore
import ServiceLifecycle
import Synchronization

/// Runs `pass` every `interval` of `clock` until graceful shutdown, which cancels the wait: the loop of every
/// background service.
func runPeriodically(every interval: Duration, on clock: any Clock, _ pass: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown {
        // Shutdown cancels the sleep; that is the normal way out, not a failure.
        while (try? await clock.sleep(for: interval)) != nil {
            await pass()
        }
    }
}

/// How a background loop's passes went, logged once per change of state: the first failure at error level with
/// the error, then nothing while passes keep failing the same way (a database that is down would otherwise add a
/// line every tick), a failure of another kind at error level again, and one info line when a pass succeeds again.
final class PassLog: Sendable {
    private let task: String
    private let logger: Logger
    /// The kind of failure the loop is in, nil while its passes succeed.
    private let failing = Mutex<String?>(nil)

    /// Creates the log for the loop named `task` ("escalation sweep").
    init(_ task: String, logger: Logger) {
        self.task = task
        self.logger = logger
    }

    /// Runs one pass and notes how it went; nil when it failed.
    @discardableResult
    func watch<T>(_ pass: () async throws -> T) async -> T? {
        do {
            let value = try await pass()
            succeeded()
            return value
        } catch {
            failed(error)
            return nil
        }
    }

    /// Notes a pass that worked: the end of a failing run, if there was one.
    func succeeded() {
        let ended = failing.withLock { failing in
            defer { failing = nil }
            return failing
        }
        if let ended { logger.info("\(task) recovered", metadata: ["failure": "\(ended)"]) }
    }

    /// Notes a failed pass: logged when it starts a failing run or changes its kind.
    func failed(_ error: any Error) {
        let kind = Self.kind(of: error)
        let isNew = failing.withLock { failing in
            defer { failing = kind }
            return failing != kind
        }
        if isNew {
            logger.error("\(task) failed", metadata: ["error": "\(error)", "failure": "\(kind)"])
        } else {
            logger.debug("\(task) still failing", metadata: ["error": "\(error)"])
        }
    }

    /// What counts as "the same failure": a `PatenError`'s code; for a driver's error its type and whether the
    /// database was unreachable; otherwise the error's type and code (SQLite's result code for GRDB's errors).
    static func kind(of error: any Error) -> String {
        if let error = error as? PatenError { return error.code }
        let type = String(reflecting: Swift.type(of: error))
        if let error = error as? any StorageDriverError { return error.meansUnavailable ? "\(type) (unavailable)" : type }
        return "\(type) \((error as NSError).code)"
    }
}
