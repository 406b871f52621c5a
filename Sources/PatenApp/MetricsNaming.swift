import Metrics
import Prometheus

/// One metric on `GET /metrics`: its Prometheus name, type, label names, help text and (histograms) buckets.
/// docs/metrics.md lists the same (PrometheusNamingTests keeps the two in step).
public struct PatenMetric: Sendable, Equatable {
    /// The Prometheus metric type.
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    /// The name in the exposition (counters end in `_total`, durations in `_seconds`).
    public let name: String
    public let kind: Kind
    /// Label names, in the order they are written.
    public let labels: [String]
    /// The `# HELP` text.
    public let help: String
    /// Histogram bucket upper bounds (nil for counters and gauges).
    public let buckets: [Duration]?

    /// The descriptor for metrics made directly on the registry (the gauges counted at scrape).
    var descriptor: MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}

/// Every metric Paten exposes, and how swift-metrics labels (Hummingbird's and Paten's) become Prometheus names.
public enum PatenMetrics {
    /// Buckets for response times of people (first response and the like): 30 s to 2 days.
    public static let responseTimeBuckets: [Duration] = [
        .seconds(30), .seconds(60), .seconds(2 * 60), .seconds(5 * 60), .seconds(10 * 60), .seconds(15 * 60),
        .seconds(30 * 60), .seconds(3600), .seconds(2 * 3600), .seconds(4 * 3600), .seconds(8 * 3600),
        .seconds(12 * 3600), .seconds(24 * 3600), .seconds(48 * 3600),
    ]

    /// Buckets for HTTP request durations: 5 ms to 10 s (swift-prometheus' defaults).
    public static let requestDurationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// Buckets for swift-metrics recorders (none of Paten's; swift-prometheus' defaults).
    public static let valueBuckets: [Double] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

    static let httpLabels = ["http_route", "http_request_method", "http_response_status_code"]

    public static let queueDepth = PatenMetric(
        name: "paten_queue_depth", kind: .gauge, labels: ["tier"],
        help: "Claimable questions by tier, counted at scrape.", buckets: nil
    )
    public static let openEscalations = PatenMetric(
        name: "paten_open_escalations", kind: .gauge, labels: ["level"],
        help: "Escalations not yet resolved (open or acknowledged) by level, counted at scrape.", buckets: nil
    )
    public static let webhookMessages = PatenMetric(
        name: "paten_webhook_messages", kind: .gauge, labels: ["state"],
        help: "Outbound webhook messages by state (pending, delivered, dead), counted at scrape.", buckets: nil
    )
    public static let volunteers = PatenMetric(
        name: "paten_volunteers", kind: .gauge, labels: ["level"],
        help: "Active volunteers by programme level, counted at scrape.", buckets: nil
    )
    public static let volunteersPaused = PatenMetric(
        name: "paten_volunteers_paused", kind: .gauge, labels: [],
        help: "Volunteers paused after low ratings, waiting for staff to resume them, counted at scrape.", buckets: nil
    )
    public static let firstResponse = PatenMetric(
        name: "paten_first_response_seconds", kind: .histogram, labels: ["tier"],
        help: "Wall-clock time from submission to the first helper reply, by the question's tier then.",
        buckets: responseTimeBuckets
    )
    public static let ratings = PatenMetric(
        name: "paten_ratings_total", kind: .counter, labels: ["score"],
        help: "Customer ratings received, by score (1 to 5).", buckets: nil
    )
    public static let redactedQuestions = PatenMetric(
        name: "paten_redacted_questions_total", kind: .counter, labels: ["reason"],
        help: "Questions whose texts were replaced by tombstones, by reason (erasure on request, retention purge).",
        buckets: nil
    )
    public static let httpRequests = PatenMetric(
        name: "http_server_requests_total", kind: .counter, labels: httpLabels,
        help: "HTTP requests answered, by route, method and status code.", buckets: nil
    )
    public static let httpRequestDuration = PatenMetric(
        name: "http_server_request_duration_seconds", kind: .histogram, labels: httpLabels,
        help: "Time to answer an HTTP request, until the response body is written, by route, method and status code.",
        buckets: requestDurationBuckets
    )
    public static let httpRequestErrors = PatenMetric(
        name: "http_server_request_errors_total", kind: .counter,
        labels: ["http_route", "http_request_method", "error_type"],
        help: "HTTP requests that ended in an error response, by route, method and status code (error_type).",
        buckets: nil
    )
    public static let httpActiveRequests = PatenMetric(
        name: "http_server_active_requests", kind: .gauge, labels: ["http_request_method"],
        help: "HTTP requests in progress, by method.", buckets: nil
    )

    /// Every metric, as docs/metrics.md lists them.
    public static let all: [PatenMetric] = [
        queueDepth, openEscalations, webhookMessages, volunteers, volunteersPaused, firstResponse, ratings, redactedQuestions,
        httpRequests, httpRequestDuration, httpRequestErrors, httpActiveRequests,
    ]

    /// swift-metrics labels recorded by Hummingbird's `MetricsMiddleware` and their Prometheus names.
    public static let renamed: [String: String] = [
        "hb.requests": httpRequests.name,
        "http.server.request.duration": httpRequestDuration.name,
        "hb.request.errors": httpRequestErrors.name,
        "http.server.active_requests": httpActiveRequests.name,
    ]

    static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The metric of a name, if Paten knows it.
    public static func metric(named name: String) -> PatenMetric? { byName[name] }

    /// A swift-metrics label and dimensions as a Prometheus name and labels: Hummingbird's labels renamed as in
    /// `renamed`, any other dot in a name or label name an underscore (`http.route` is `http_route`).
    public static func sanitize(_ label: String, _ dimensions: [(String, String)]) -> (String, [(String, String)]) {
        let name = renamed[label] ?? underscored(label)
        return (name, dimensions.map { (underscored($0.0), $0.1) })
    }

    /// Buckets for a timer: the catalogue's, else response-time buckets for Paten's own `paten_*_seconds` and HTTP
    /// request buckets for anything else.
    public static func durationBuckets(for name: String) -> [Duration] {
        if let buckets = byName[name]?.buckets { return buckets }
        return name.hasPrefix("paten_") && name.hasSuffix("_seconds") ? responseTimeBuckets : requestDurationBuckets
    }

    static func underscored(_ text: String) -> String {
        String(text.map { $0 == "." || $0 == "-" ? "_" : $0 })
    }
}

/// The swift-metrics factory for `paten serve` (`MetricsSystem.bootstrap`), and for tests under
/// `withMetricsFactory`: records into a Prometheus registry with Prometheus names (`PatenMetrics.sanitize`), the help
/// texts and buckets of `PatenMetrics`. (swift-prometheus' own `PrometheusMetricsFactory` writes no `# HELP`.)
public struct PatenMetricsFactory: MetricsFactory {
    public let registry: PrometheusCollectorRegistry

    /// Creates the factory over a registry.
    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: PatenMetrics.metric(named: name)?.help ?? "")
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let (name, labels) = PatenMetrics.sanitize(label, dimensions)
        return registry.makeCounter(descriptor: descriptor(name), labels: labels)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        let (name, labels) = PatenMetrics.sanitize(label, dimensions)
        return registry.makeCounter(descriptor: descriptor(name), labels: labels)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let (name, labels) = PatenMetrics.sanitize(label, dimensions)
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(name), labels: labels) }
        return registry.makeValueHistogram(
            descriptor: descriptor(name), labels: labels, buckets: PatenMetrics.valueBuckets
        )
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        let (name, labels) = PatenMetrics.sanitize(label, dimensions)
        return registry.makeGauge(descriptor: descriptor(name), labels: labels)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let (name, labels) = PatenMetrics.sanitize(label, dimensions)
        return registry.makeDurationHistogram(
            descriptor: descriptor(name), labels: labels, buckets: PatenMetrics.durationBuckets(for: name)
        )
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        switch handler {
        case let gauge as Prometheus.Gauge: registry.unregisterGauge(gauge)
        case let histogram as ValueHistogram: registry.unregisterValueHistogram(histogram)
        default: break
        }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}

/// The factory `paten serve` bootstraps swift-metrics with: `MetricsSystem.bootstrap(makePrometheusMetricsFactory(registry: registry))`.
public func makePrometheusMetricsFactory(registry: PrometheusCollectorRegistry) -> PatenMetricsFactory {
    PatenMetricsFactory(registry: registry)
}
