import Logging
import Metrics
import PatenCore
import ServiceLifecycle

/// Purges the texts of questions resolved longer ago than the policy's `retention.resolved_days` (docs/privacy.md):
/// every `interval`, in batches of `batch` questions, each redacted in a transaction of its own. Only what is due is
/// read (an index of resolved questions that still hold text, by resolution time), so an idle pass is one index probe.
/// Several instances purge side by side: a question redacted twice is left as the first redaction made it.
public struct RetentionPurge: Service {
    /// How often the purge looks for what is due: resolution times are days old, so an hour late is no matter.
    public static let interval: Duration = .seconds(3600)
    /// Questions per batch.
    public static let batch = 100
    /// Most batches per pass, so one pass after a long outage (or a shorter policy) does not hold the loop for hours.
    static let batchesPerPass = 50

    let privacy: PrivacyDesk
    let interval: Duration
    let clock: any Clock
    let passes: PassLog
    let logger: Logger
    let purged = Counter(label: PatenMetrics.redactedQuestions.name, dimensions: [("reason", RedactionReason.retention.rawValue)])

    /// Creates the service; it waits on `clock` between passes.
    public init(privacy: PrivacyDesk, interval: Duration, clock: any Clock, logger: Logger) {
        self.privacy = privacy
        self.interval = interval
        self.clock = clock
        self.logger = logger
        passes = PassLog("retention purge", logger: logger)
    }

    public func run() async throws {
        await runPeriodically(every: interval, on: clock) { await tick() }
    }

    /// One pass: purges what is due, batch after batch; returns how many questions it redacted.
    @discardableResult
    public func tick() async -> Int {
        let total =
            await passes.watch {
                var total = 0
                for _ in 0..<Self.batchesPerPass {
                    let done = try await privacy.purgeDue(limit: Self.batch)
                    total += done
                    if done < Self.batch { break }
                }
                if total > 0 { try await privacy.scrubFreedSpace() }
                return total
            } ?? 0
        if total > 0 {
            purged.increment(by: total)
            logger.info("purged the texts of questions resolved long ago", metadata: ["count": "\(total)"])
        }
        return total
    }
}
