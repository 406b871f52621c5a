import Crypto
import Foundation
import Hummingbird
import PatenCore
import PatenHTTP
import Prometheus
import Synchronization

/// `GET /metrics` in the Prometheus text format: queue depth per tier, unresolved escalations per level and
/// outbound webhook messages per state (read from the database at most once per `cacheDuration` of the injected
/// clock, however often it is scraped), plus whatever swift-metrics recorded into the same registry
/// (first-response times, ratings, HTTP requests and latencies when the server bootstrapped the metrics system with
/// `makePrometheusMetricsFactory(registry:)`, which gives them Prometheus names, help texts and buckets; see
/// `PatenMetrics` and docs/metrics.md). With a `token`, a scrape must send `Authorization: Bearer <token>`.
public struct PrometheusEndpoint: Sendable {
    let registry: PrometheusCollectorRegistry
    let metrics: MetricsDesk
    let escalations: EscalationDesk
    let integrations: IntegrationDirectory
    let programme: ProgrammeDesk?
    let clock: any Clock
    let cacheDuration: Duration
    /// The SHA-256 of the scrape token; nil leaves the endpoint open.
    let tokenDigest: SHA256Digest?
    let cache = ScrapeCache()

    /// Creates the endpoint over a registry.
    public init(
        registry: PrometheusCollectorRegistry, metrics: MetricsDesk, escalations: EscalationDesk,
        integrations: IntegrationDirectory, programme: ProgrammeDesk? = nil, clock: any Clock,
        cacheDuration: Duration = .seconds(5), token: String? = nil
    ) {
        self.programme = programme
        self.registry = registry
        self.metrics = metrics
        self.escalations = escalations
        self.integrations = integrations
        self.clock = clock
        self.cacheDuration = cacheDuration
        self.tokenDigest = token.map { SHA256.hash(data: Array($0.utf8)) }
    }

    /// Adds `GET /metrics` to the router's root.
    public func addRoutes(to router: Router<PatenRequestContext>) {
        router.get("metrics") { request, _ in
            try authorize(request)
            try await cache.refresh(at: clock.now(), maxAge: cacheDuration.timeInterval) { try await refresh() }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }

    /// Refuses a scrape without the configured token with 401 `unauthenticated`.
    func authorize(_ request: Request) throws {
        guard let tokenDigest else { return }
        let parts = (request.headers[.authorization] ?? "").split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw PatenError.unauthenticated }
        // Digests of equal length, compared by swift-crypto in constant time: timing tells nothing about the token.
        guard SHA256.hash(data: Array(parts[1].trimmingCharacters(in: .whitespaces).utf8)) == tokenDigest else {
            throw PatenError.unauthenticated
        }
    }

    /// Sets the gauges from the database (names and help texts from `PatenMetrics`).
    func refresh() async throws {
        let depth = try await metrics.queueDepth()
        for tier in Tier.allCases {
            gauge(PatenMetrics.queueDepth, [("tier", tier.rawValue)]).set(to: Double(depth[tier] ?? 0))
        }
        let open = try await escalations.unresolvedCounts()
        for level in 1...2 {
            gauge(PatenMetrics.openEscalations, [("level", String(level))]).set(to: Double(open[level] ?? 0))
        }
        let messages = try await integrations.messageCounts()
        for state in DeliveryState.allCases {
            gauge(PatenMetrics.webhookMessages, [("state", state.rawValue)]).set(to: Double(messages[state] ?? 0))
        }
        if let programme {
            let volunteers = try await programme.volunteerCounts()
            for (level, count) in volunteers.byLevel {
                gauge(PatenMetrics.volunteers, [("level", level)]).set(to: Double(count))
            }
            gauge(PatenMetrics.volunteersPaused, []).set(to: Double(volunteers.paused))
        }
    }

    /// The registry's gauge of a metric and label values.
    func gauge(_ metric: PatenMetric, _ labels: [(String, String)]) -> Prometheus.Gauge {
        labels.isEmpty
            ? registry.makeGauge(descriptor: metric.descriptor)
            : registry.makeGauge(descriptor: metric.descriptor, labels: labels)
    }
}

/// The last database read of the gauges and when it started: scrapes within `maxAge` of it share it (also while it
/// is still running), so any number of scrapes in the window costs one set of queries.
final class ScrapeCache: Sendable {
    private struct Pass {
        let startedAt: Date
        let task: Task<Void, any Error>
    }

    private let last = Mutex<Pass?>(nil)

    /// Runs `read` unless a pass started less than `maxAge` seconds before `now`; waits for that pass instead.
    func refresh(at now: Date, maxAge: TimeInterval, _ read: @escaping @Sendable () async throws -> Void) async throws {
        let task = last.withLock { last -> Task<Void, any Error> in
            if let pass = last, pass.startedAt <= now, now.timeIntervalSince(pass.startedAt) < maxAge { return pass.task }
            let task = Task { try await read() }
            last = Pass(startedAt: now, task: task)
            return task
        }
        do {
            try await task.value
        } catch {
            // A failed read is not cached: the next scrape tries again.
            last.withLock { if $0?.task == task { $0 = nil } }
            throw error
        }
    }
}
