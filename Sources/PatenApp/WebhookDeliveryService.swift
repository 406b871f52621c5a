import AsyncHTTPClient
import Logging
import PatenCore
import PatenWebhooks
import ServiceLifecycle
import Synchronization

/// The outbox deliverer as a service: every `interval` it sends what is due, and once an hour it forgets inbound
/// webhook ids past their retention and deletes delivered (30 days) and dead (90 days) messages past theirs. It owns its HTTP client and shuts it down after the last pass.
public struct WebhookDeliveryService: Service {
    /// How often old inbound receipts are purged.
    static let purgeEvery: Duration = .seconds(3600)

    let runtime: PatenRuntime
    let logger: Logger

    /// Creates the service.
    public init(runtime: PatenRuntime, logger: Logger) {
        self.runtime = runtime
        self.logger = logger
    }

    public func run() async throws {
        let client = WebhookDeliverer.makeClient()
        let deliverer = WebhookDeliverer(
            outbox: runtime.store, integrations: runtime.integrations, client: client,
            destinations: runtime.destinations, clock: runtime.clock,
            schedule: runtime.configuration.webhookRetrySchedule, ratingLinks: runtime.desk.ratingLinks, logger: logger
        )
        let purger = ReceiptPurger(
            integrations: runtime.integrations, signatures: runtime.store, sessions: runtime.consoleSessions,
            clock: runtime.clock, logger: logger
        )
        let interval = runtime.configuration.deliveryInterval
        let clock = runtime.clock
        let passes = PassLog("webhook delivery", logger: logger)
        // Shutdown cancels the loop and the attempts in flight; their claims' leases run out and another process
        // (or this one, restarted) sends them again with the same id.
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while (try? await clock.sleep(for: interval)) != nil {
                    await passes.watch { try await deliverer.claimAndDispatch(into: &group) }
                    await purger.purgeIfDue(every: Self.purgeEvery)
                }
            }
        }
        try await client.shutdown()
    }
}

/// Forgets inbound webhook ids, old outbound messages, similarity signatures past their retention and ended console
/// sessions, at most once per period.
final class ReceiptPurger: Sendable {
    private let integrations: IntegrationDirectory
    private let signatures: any IncidentRepository
    private let sessions: ConsoleSessions
    private let clock: any Clock
    private let logger: Logger
    private let last = Mutex<ContinuousClock.Instant?>(nil)
    /// Signatures deleted per transaction.
    static let signatureBatch = 1000

    init(
        integrations: IntegrationDirectory, signatures: any IncidentRepository, sessions: ConsoleSessions,
        clock: any Clock, logger: Logger
    ) {
        self.integrations = integrations
        self.signatures = signatures
        self.sessions = sessions
        self.clock = clock
        self.logger = logger
    }

    func purgeIfDue(every period: Duration) async {
        let now = ContinuousClock.now
        let due = last.withLock { last in
            guard last.map({ now - $0 >= period }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        do {
            let purged = try await integrations.purgeReceipts(olderThan: InboundWebhookReceiver.receiptRetention)
            if purged > 0 { logger.info("forgot old inbound webhook ids", metadata: ["count": "\(purged)"]) }
            let messages = try await integrations.purgeOldMessages()
            if messages > 0 { logger.info("purged old outbound messages", metadata: ["count": "\(messages)"]) }
            var signatures = 0
            while true {
                let purged = try await self.signatures.purgeSignatures(at: clock.now(), limit: Self.signatureBatch)
                signatures += purged
                if purged < Self.signatureBatch { break }
            }
            if signatures > 0 { logger.info("purged expired similarity signatures", metadata: ["count": "\(signatures)"]) }
            let sessions = try await self.sessions.purge()
            if sessions > 0 { logger.info("purged ended console sessions", metadata: ["count": "\(sessions)"]) }
        } catch {
            logger.error("purging inbound webhook ids failed", metadata: ["error": "\(error)"])
        }
    }
}
