import Foundation
import Hummingbird
import PatenCore
import PatenHTTP
import Prometheus

/// `GET /metrics` in the Prometheus text format: queue depth per tier, unresolved escalations per level and
/// outbound webhook messages per state (counted at scrape time), plus whatever swift-metrics recorded into the same registry (first-response times,
/// ratings, HTTP requests and latencies when the server bootstrapped the metrics system with it).
public struct PrometheusEndpoint: Sendable {
    let registry: PrometheusCollectorRegistry
    let metrics: MetricsDesk
    let escalations: EscalationDesk
    let integrations: IntegrationDirectory

    /// Creates the endpoint over a registry.
    public init(
        registry: PrometheusCollectorRegistry, metrics: MetricsDesk, escalations: EscalationDesk,
        integrations: IntegrationDirectory
    ) {
        self.registry = registry
        self.metrics = metrics
        self.escalations = escalations
        self.integrations = integrations
    }

    /// Adds `GET /metrics` to the router's root.
    public func addRoutes(to router: Router<PatenRequestContext>) {
        router.get("metrics") { _, _ in
            try await refresh()
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }

    /// Sets the gauges from the database.
    func refresh() async throws {
        let depth = try await metrics.queueDepth()
        for tier in Tier.allCases {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "paten", metricName: "queue", unitName: "depth", helpText: "Claimable questions by tier."
                ),
                labels: [("tier", tier.rawValue)]
            ).set(to: Double(depth[tier] ?? 0))
        }
        let open = try await escalations.unresolvedCounts()
        for level in 1...2 {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "paten", metricName: "open", unitName: "escalations",
                    helpText: "Escalations not yet resolved, by level."
                ),
                labels: [("level", String(level))]
            ).set(to: Double(open[level] ?? 0))
        }
        let messages = try await integrations.messageCounts()
        for state in DeliveryState.allCases {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "paten", metricName: "webhook", unitName: "messages",
                    helpText: "Outbound webhook messages by state (pending, delivered, dead)."
                ),
                labels: [("state", state.rawValue)]
            ).set(to: Double(messages[state] ?? 0))
        }
    }
}
