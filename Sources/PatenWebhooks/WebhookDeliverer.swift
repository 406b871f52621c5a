import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PatenCore
import Synchronization

/// Sends outbox messages, signed per Standard Webhooks: `webhook-id` is the message id on every attempt, the
/// timestamp is fresh on each, and the stored body bytes are signed with every valid secret (entries joined by
/// one space). 2xx is delivered; 410 dead-letters the message and disables the endpoint; anything else (or no
/// answer in 15 s) is retried on the schedule, honouring `Retry-After`, and dead-lettered after the last attempt.
public struct WebhookDeliverer: Sendable {
    /// Longest wait for an answer.
    public static let timeout: TimeAmount = .seconds(15)
    /// How long a claimed message is kept from other deliverers: longer than an attempt can take.
    static let lease: TimeInterval = 60
    /// The longest an attempt may take in all: address check, connection, request, answer and body.
    static let attemptLimit: Duration = .seconds(30)
    /// An endpoint whose every attempt failed for this long is disabled.
    public static let failingLimit: TimeInterval = 5 * 86400

    private let outbox: any OutboxRepository
    private let integrations: IntegrationDirectory
    private let client: HTTPClient
    private let destinations: any DestinationGuard
    private let clock: any Clock
    private let schedule: RetrySchedule
    private let ratingLinks: RatingLinks
    private let batchSize: Int
    private let logger: Logger
    /// Endpoints with a task sending to them now.
    private let busy = BusyEndpoints()

    /// Creates the deliverer. The client should not follow redirects (a redirect could lead anywhere).
    public init(
        outbox: any OutboxRepository, integrations: IntegrationDirectory, client: HTTPClient,
        destinations: any DestinationGuard, clock: any Clock, schedule: RetrySchedule = .standard,
        ratingLinks: RatingLinks, batchSize: Int = 100, logger: Logger
    ) {
        self.outbox = outbox
        self.integrations = integrations
        self.client = client
        self.destinations = destinations
        self.clock = clock
        self.schedule = schedule
        self.ratingLinks = ratingLinks
        self.batchSize = batchSize
        self.logger = logger
    }

    /// An HTTP client set up for deliveries: no redirects, bounded connect and read times.
    public static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: timeout)
        )
        configuration.decompression = .disabled
        // A refused or failed connection is a failed attempt at once; the retry schedule decides when to try
        // again. (The client's own reconnect loop would hold the endpoint's queue for the whole connect timeout.)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Claims what is due and attempts it, waiting for every attempt to end; returns how many messages it
    /// claimed. (The service uses `dispatch(into:)`, which does not wait.)
    @discardableResult
    public func deliverDue() async -> Int {
        await withDiscardingTaskGroup { group in await dispatch(into: &group) }
    }

    /// Claims up to a batch of due messages of endpoints that are not busy, and starts one task per endpoint in
    /// the group. An endpoint's messages go one after another, in the order they were written; a slow or dead
    /// endpoint holds up only itself. Returns how many messages it claimed.
    @discardableResult
    public func dispatch(into group: inout DiscardingTaskGroup) async -> Int {
        do {
            return try await claimAndDispatch(into: &group)
        } catch {
            logger.error("claiming due webhook messages failed", metadata: ["error": "\(error)"])
            return 0
        }
    }

    /// `dispatch(into:)` with a failure to claim thrown to the caller, which logs it (the service: once per
    /// change of state, not every tick).
    public func claimAndDispatch(into group: inout DiscardingTaskGroup) async throws -> Int {
        let due = try await outbox.claimDueMessages(
            at: clock.now(), lease: Self.lease, limit: batchSize, excluding: busy.snapshot()
        )
        var queues: [String: [DueDelivery]] = [:]
        var order: [String] = []
        for delivery in due {
            if queues[delivery.message.integrationId] == nil { order.append(delivery.message.integrationId) }
            queues[delivery.message.integrationId, default: []].append(delivery)
        }
        for integration in order {
            let queue = queues[integration] ?? []
            busy.insert(integration)
            group.addTask {
                defer { busy.remove(integration) }
                await send(queue)
            }
        }
        return due.count
    }

    /// Sends one endpoint's claimed messages in order. Before each attempt every claim still waiting is renewed,
    /// so none outlives its lease behind slow attempts. After a failure the rest are given back for the failed
    /// message's retry time: an endpoint that is down is not sent the whole queue at once.
    func send(_ queue: [DueDelivery]) async {
        var waiting = queue
        while !waiting.isEmpty, !Task.isCancelled {
            let until = clock.now().addingTimeInterval(Self.lease)
            guard let held = try? await outbox.renewClaims(waiting.map(\.claimToken), until: until) else { return }
            waiting = waiting.filter { held.contains($0.claimToken) }
            guard !waiting.isEmpty else { return }
            let delivery = waiting.removeFirst()
            switch await deliver(delivery) {
            case .delivered:
                continue
            case .failed(let retryAt):
                try? await outbox.releaseClaims(waiting.map(\.claimToken), nextAttemptAt: retryAt)
                return
            case .stopped:
                return
            }
        }
    }

    /// How an attempt left its endpoint's queue.
    enum QueueStep: Equatable {
        case delivered
        /// Failed; the endpoint's other messages wait until this time.
        case failed(retryAt: Date)
        /// The endpoint no longer takes messages, or the attempt could not be made (local trouble, shutdown).
        case stopped
    }

    /// Makes one attempt and records it.
    func deliver(_ delivery: DueDelivery) async -> QueueStep {
        guard let report = await attempt(delivery) else { return .stopped }
        let open: Bool
        do {
            // Recorded even while shutting down: an unstructured task does not inherit the cancellation, so a
            // delivered message is not sent again after the restart.
            open = try await Task { try await outbox.finishAttempt(report) }.value
        } catch {
            // The lease runs out and the message is attempted again: at least once, never lost.
            logger.error(
                "recording a delivery attempt failed", metadata: ["message": "\(delivery.message.id)", "error": "\(error)"]
            )
            return .stopped
        }
        switch report.disposition {
        case .delivered:
            logger.debug("webhook delivered", metadata: ["message": "\(delivery.message.id)"])
            return open ? .delivered : .stopped
        case .retry(let retryAt):
            logFailure(report, delivery)
            return open ? .failed(retryAt: retryAt) : .stopped
        case .deadLetter, .endpointGone:
            logFailure(report, delivery)
            return open ? .failed(retryAt: report.attempt.at.addingTimeInterval(5)) : .stopped
        }
    }

    private func logFailure(_ report: AttemptReport, _ delivery: DueDelivery) {
        logger.notice(
            "webhook attempt failed",
            metadata: [
                "message": "\(delivery.message.id)", "integration": "\(delivery.message.integrationId)",
                "status": "\(report.attempt.statusCode.map(String.init) ?? "-")",
                "error": "\(report.attempt.error ?? "-")",
            ]
        )
    }

    /// Sends the message once and decides what happens next; nil when the attempt was not made for a reason of
    /// Paten's own (the secrets key does not open the secrets, or shutdown), which must not count against the
    /// endpoint: the claim's lease runs out and the message is tried again.
    func attempt(_ delivery: DueDelivery) async -> AttemptReport? {
        let now = clock.now()
        let started = ContinuousClock.now
        let message = delivery.message
        var status: Int?
        var retryAfter: TimeInterval?
        var outcome = AttemptOutcome.failed
        var problem: String?
        let secrets: [WebhookSecret]
        do {
            secrets = try integrations.signingSecrets(delivery).map { try WebhookSecret($0) }
        } catch {
            logger.error(
                "cannot open the signing secrets; check the secrets key",
                metadata: ["integration": "\(message.integrationId)", "error": "\(error)"]
            )
            return nil
        }
        do {
            let timestamp = Int64(now.timeIntervalSince1970.rounded(.down))
            // The stored body holds a placeholder for a customer's rating link; the link exists only in flight.
            let payload = ratingLinks.fill(message.payload)
            var request = HTTPClientRequest(url: delivery.url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "user-agent", value: PatenVersion.userAgent)
            request.headers.add(name: "webhook-id", value: message.id)
            request.headers.add(name: "webhook-timestamp", value: String(timestamp))
            request.headers.add(
                name: "webhook-signature",
                value: StandardWebhookSignature.header(
                    id: message.id, timestamp: timestamp, body: payload, secrets: secrets
                )
            )
            request.body = .bytes(ByteBuffer(bytes: payload))
            let (client, destinations, url, prepared) = (client, destinations, delivery.url, request)
            // One deadline over the address check, the request and the body, well inside the claim's lease.
            let answer = try await withDeadline(Self.attemptLimit) {
                try await destinations.check(url)
                let response = try await client.execute(prepared, timeout: Self.timeout)
                let status = Int(response.status.code)
                let retryAfter = response.headers.first(name: "retry-after").flatMap { Self.retryAfter($0, now: now) }
                // Read a little of the answer so the connection can be reused; it does not change the outcome.
                var read = 0
                do {
                    for try await chunk in response.body {
                        read += chunk.readableBytes
                        if read > 16 * 1024 { break }
                    }
                } catch {}
                return (status, retryAfter)
            }
            status = answer.0
            retryAfter = answer.1
            if (200..<300).contains(answer.0) {
                outcome = .delivered
            } else {
                problem = "HTTP \(answer.0)"
            }
        } catch let refusal as PatenError where refusal.code == "destination_not_allowed" {
            outcome = .refused
            problem = refusal.message
        } catch let failure as PatenError {
            problem = failure.message
        } catch let failure as HTTPClientError where failure == .deadlineExceeded || failure == .readTimeout {
            problem = "no answer within \(Self.timeout.nanoseconds / 1_000_000_000) s"
        } catch is DeadlineExceeded {
            problem = "the attempt took longer than \(Self.attemptLimit)"
        } catch is CancellationError {
            return nil
        } catch {
            if Task.isCancelled { return nil }
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
            messageId: message.id, integrationId: message.integrationId, claimToken: delivery.claimToken,
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

/// The endpoints a deliverer is sending to right now.
final class BusyEndpoints: Sendable {
    private let ids = Mutex<Set<String>>([])

    func snapshot() -> Set<String> { ids.withLock { $0 } }
    func insert(_ id: String) { _ = ids.withLock { $0.insert(id) } }
    func remove(_ id: String) { _ = ids.withLock { $0.remove(id) } }
}

/// An operation ran past its deadline.
struct DeadlineExceeded: Error {}

/// Runs the operation, throwing `DeadlineExceeded` when it takes longer than the limit (the operation is then
/// cancelled).
func withDeadline<T: Sendable>(
    _ limit: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw DeadlineExceeded() }
        return value
    }
}
