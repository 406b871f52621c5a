import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PatenCore

/// Sends outbox messages, signed per Standard Webhooks: `webhook-id` is the message id on every attempt, the
/// timestamp is fresh on each, and the stored body bytes are signed with every valid secret (entries joined by
/// one space). 2xx is delivered; 410 dead-letters the message and disables the endpoint; anything else (or no
/// answer in 15 s) is retried on the schedule, honouring `Retry-After`, and dead-lettered after the last attempt.
public struct WebhookDeliverer: Sendable {
    /// Longest wait for an answer.
    public static let timeout: TimeAmount = .seconds(15)
    /// How long a claimed message is kept from other deliverers: longer than an attempt can take.
    static let lease: TimeInterval = 60
    /// An endpoint whose every attempt failed for this long is disabled.
    public static let failingLimit: TimeInterval = 5 * 86400

    private let outbox: any OutboxRepository
    private let integrations: IntegrationDirectory
    private let client: HTTPClient
    private let destinations: any DestinationGuard
    private let clock: any Clock
    private let schedule: RetrySchedule
    private let batchSize: Int
    private let concurrency: Int
    private let logger: Logger

    /// Creates the deliverer. The client should not follow redirects (a redirect could lead anywhere).
    public init(
        outbox: any OutboxRepository, integrations: IntegrationDirectory, client: HTTPClient,
        destinations: any DestinationGuard, clock: any Clock, schedule: RetrySchedule = .standard,
        batchSize: Int = 100, concurrency: Int = 16, logger: Logger
    ) {
        self.outbox = outbox
        self.integrations = integrations
        self.client = client
        self.destinations = destinations
        self.clock = clock
        self.schedule = schedule
        self.batchSize = batchSize
        self.concurrency = concurrency
        self.logger = logger
    }

    /// An HTTP client set up for deliveries: no redirects, bounded connect and read times.
    public static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: timeout)
        )
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Attempts every message that is due, batch by batch; returns how many attempts it made.
    @discardableResult
    public func deliverDue() async -> Int {
        var total = 0
        do {
            while true {
                let due = try await outbox.claimDueMessages(at: clock.now(), lease: Self.lease, limit: batchSize)
                guard !due.isEmpty else { break }
                // One endpoint's messages go one after another, in the order they were written; endpoints are
                // served side by side.
                var queues: [String: [DueDelivery]] = [:]
                var order: [String] = []
                for delivery in due {
                    if queues[delivery.message.integrationId] == nil { order.append(delivery.message.integrationId) }
                    queues[delivery.message.integrationId, default: []].append(delivery)
                }
                await withTaskGroup(of: Void.self) { group in
                    var running = 0
                    for integration in order {
                        if running == concurrency {
                            await group.next()
                            running -= 1
                        }
                        let queue = queues[integration] ?? []
                        group.addTask {
                            for delivery in queue { await deliver(delivery) }
                        }
                        running += 1
                    }
                }
                total += due.count
                if due.count < batchSize { break }
            }
        } catch {
            logger.error("webhook delivery pass failed", metadata: ["error": "\(error)"])
        }
        return total
    }

    /// Makes one attempt and records it.
    func deliver(_ delivery: DueDelivery) async {
        let report = await attempt(delivery)
        do {
            try await outbox.finishAttempt(report)
        } catch {
            // The lease runs out and the message is attempted again: at least once, never lost.
            logger.error(
                "recording a delivery attempt failed", metadata: ["message": "\(delivery.message.id)", "error": "\(error)"]
            )
        }
        if case .delivered = report.disposition {
            logger.debug("webhook delivered", metadata: ["message": "\(delivery.message.id)"])
        } else {
            logger.notice(
                "webhook attempt failed",
                metadata: [
                    "message": "\(delivery.message.id)", "integration": "\(delivery.message.integrationId)",
                    "status": "\(report.attempt.statusCode.map(String.init) ?? "-")",
                    "error": "\(report.attempt.error ?? "-")",
                ]
            )
        }
    }

    /// Sends the message once and decides what happens next.
    func attempt(_ delivery: DueDelivery) async -> AttemptReport {
        let now = clock.now()
        let started = ContinuousClock.now
        let message = delivery.message
        var status: Int?
        var retryAfter: TimeInterval?
        var outcome = AttemptOutcome.failed
        var problem: String?
        do {
            try await destinations.check(delivery.url)
            let secrets = try integrations.signingSecrets(delivery).map { try WebhookSecret($0) }
            let timestamp = Int64(now.timeIntervalSince1970.rounded(.down))
            var request = HTTPClientRequest(url: delivery.url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "user-agent", value: "Paten-Webhooks/1")
            request.headers.add(name: "webhook-id", value: message.id)
            request.headers.add(name: "webhook-timestamp", value: String(timestamp))
            request.headers.add(
                name: "webhook-signature",
                value: StandardWebhookSignature.header(
                    id: message.id, timestamp: timestamp, body: message.payload, secrets: secrets
                )
            )
            request.body = .bytes(ByteBuffer(bytes: message.payload))
            let response = try await client.execute(request, timeout: Self.timeout)
            status = Int(response.status.code)
            retryAfter = response.headers.first(name: "retry-after").flatMap { Self.retryAfter($0, now: now) }
            // Read a little of the answer so the connection can be reused; the rest is not needed.
            var read = 0
            for try await chunk in response.body {
                read += chunk.readableBytes
                if read > 16 * 1024 { break }
            }
            if (200..<300).contains(Int(response.status.code)) {
                outcome = .delivered
            } else {
                problem = "HTTP \(response.status.code)"
            }
        } catch let refusal as PatenError where refusal.code == "destination_not_allowed" {
            outcome = .refused
            problem = refusal.message
        } catch let failure as PatenError {
            problem = failure.message
        } catch let failure as HTTPClientError where failure == .deadlineExceeded || failure == .readTimeout {
            problem = "no answer within \(Self.timeout.nanoseconds / 1_000_000_000) s"
        } catch {
            problem = "\(error)"
        }
        let latency = Int((ContinuousClock.now - started) / .milliseconds(1))
        let disposition: DeliveryDisposition
        if outcome == .delivered {
            disposition = .delivered
        } else if status == 410 {
            disposition = .endpointGone
        } else {
            var generator = SystemRandomNumberGenerator()
            if let wait = schedule.delay(
                afterFailedAttempts: message.attempts + 1, retryAfter: retryAfter, using: &generator
            ) {
                disposition = .retry(at: now.addingTimeInterval(wait))
            } else {
                disposition = .deadLetter
            }
        }
        return AttemptReport(
            messageId: message.id, integrationId: message.integrationId,
            attempt: DeliveryAttempt(
                attempt: 0, at: now, outcome: outcome, statusCode: status, latencyMs: latency, error: problem
            ),
            disposition: disposition, failingLimit: Self.failingLimit
        )
    }

    /// A `Retry-After` value (seconds, or an HTTP date) as a wait from now.
    static func retryAfter(_ value: String, now: Date) -> TimeInterval? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text), seconds >= 0 { return TimeInterval(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text).map { max(0, $0.timeIntervalSince(now)) }
    }
}
