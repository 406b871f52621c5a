import Foundation
import HummingbirdTesting
import Logging
import Metrics
import PatenApp
import PatenCore
import PatenTestSupport
import Prometheus
import Testing

/// One metric family in a scrape: its type, help and the label names of its samples (`le` aside).
struct ScrapedFamily: Equatable {
    var type: String?
    var help: String?
    var labels: Set<String> = []
    /// `le` values of a histogram's buckets, as written.
    var bounds: [String] = []
}

/// One row of the Prometheus table in docs/metrics.md.
struct DocumentedMetric {
    let name: String
    let type: String
    let labels: Set<String>
    let help: String
    /// Bucket upper bounds in seconds (histograms only).
    let buckets: [Double]
}

@Suite("Prometheus names: /metrics, PatenMetrics and docs/metrics.md in step")
struct PrometheusNamingTests {
    /// Runs requests through the real router with swift-metrics recording into a fresh registry (a task-local factory,
    /// so no global `MetricsSystem.bootstrap`), and returns the scrape.
    func busyScrape() async throws -> String {
        let registry = PrometheusCollectorRegistry()
        return try await withMetricsFactory(makePrometheusMetricsFactory(registry: registry)) {
            try await withTestEnvironment { env in
                var logger = Logger(label: "paten-test")
                logger.logLevel = .critical
                let app = buildApplication(env.runtime, logger: logger, registry: registry)
                return try await app.test(.router) { client in
                    let staff = try await env.account("lead", .staff)
                    let vera = try await env.account("vera", .volunteer, skills: ["roaming"], languages: ["en"])
                    let submitted = try await client.call(
                        .post, "/v1/questions", token: staff.token,
                        json: questionBody("Roaming in Spain does not work", body: "No data abroad since Monday.")
                    )
                    #expect(submitted.status == 201)
                    #expect(submitted.string("tier") == "volunteer")
                    let id = try #require(submitted.string("id"))
                    // A first reply 20 minutes after submission: within the response-time buckets, not in +Inf.
                    env.clock.advance(by: 20 * 60)
                    #expect(try await client.call(.post, "/v1/questions/\(id)/claim", token: vera.token).status == 200)
                    let reply = try await client.call(
                        .post, "/v1/questions/\(id)/replies", token: vera.token, json: ["body": "Turn on data roaming."]
                    )
                    #expect(reply.status == 201)
                    #expect(try await client.call(.post, "/v1/questions/\(id)/resolve", token: vera.token).status == 200)
                    let question = try await client.call(.get, "/v1/questions/\(id)", token: staff.token)
                    let url = try #require(question.string("rating_url"))
                    let path = String(url.dropFirst(env.runtime.configuration.externalURL.count))
                    #expect(try await client.call(.post, path, json: ["score": 5]).status == 201)
                    // An erasure, counted by reason.
                    let admin = try await env.account("root", .admin)
                    let erased = try await client.call(.delete, "/v1/customers/api/cust-42", token: admin.token)
                    #expect(erased.body["questions"] as? Int == 1, "\(erased.raw)")
                    #expect(try await client.call(.get, "/v1/questions/q_nope", token: staff.token).status == 404)
                    #expect(try await client.call(.get, "/no/such/path").status == 404)
                    #expect(try await client.call(.get, "/v1/me").status == 401)
                    #expect(try await client.call(.get, "/metrics").status == 200)
                    let scrape = try await client.call(.get, "/metrics")
                    #expect(scrape.status == 200)
                    return scrape.raw
                }
            }
        }
    }

    @Test("A busy app's /metrics has exactly the metrics docs/metrics.md lists, with their type, help, labels and buckets")
    func docsMatchScrape() async throws {
        let scraped = Self.families(try await busyScrape())
        let documented = try Self.documented()
        let documentedNames = Set(documented.map(\.name))
        for name in Set(scraped.keys).subtracting(documentedNames).sorted() {
            Issue.record("/metrics has \(name), which docs/metrics.md does not list")
        }
        for name in documentedNames.subtracting(scraped.keys).sorted() {
            Issue.record("docs/metrics.md lists \(name), which a busy server's /metrics does not have")
        }
        for metric in documented {
            guard let family = scraped[metric.name] else { continue }
            #expect(family.type == metric.type, "\(metric.name): type")
            #expect(family.help == metric.help, "\(metric.name): help")
            #expect(family.labels == metric.labels, "\(metric.name): labels")
            if metric.type == "histogram" {
                #expect(family.bounds.dropLast().compactMap(Double.init) == metric.buckets, "\(metric.name): buckets")
                #expect(family.bounds.last == "+Inf", "\(metric.name): +Inf bucket")
            }
        }
    }

    @Test("The catalogue in PatenMetrics is the list in docs/metrics.md")
    func catalogueMatchesDocs() throws {
        let documented = Dictionary(uniqueKeysWithValues: try Self.documented().map { ($0.name, $0) })
        #expect(Set(documented.keys) == Set(PatenMetrics.all.map(\.name)))
        for metric in PatenMetrics.all {
            let row = try #require(documented[metric.name], "\(metric.name) is not in docs/metrics.md")
            #expect(row.type == metric.kind.rawValue, "\(metric.name)")
            #expect(row.help == metric.help, "\(metric.name)")
            #expect(row.labels == Set(metric.labels), "\(metric.name)")
            #expect(row.buckets == (metric.buckets ?? []).map(Self.seconds), "\(metric.name)")
        }
    }

    @Test("Prometheus naming: counters end in _total, durations in _seconds, every metric has help")
    func naming() async throws {
        let scraped = Self.families(try await busyScrape())
        #expect(scraped["http_server_requests_total"] != nil)
        #expect(scraped["http_server_request_duration_seconds"] != nil)
        #expect(!scraped.keys.contains { $0.hasPrefix("hb_") || $0.contains(".") })
        for (name, family) in scraped {
            #expect(family.help?.isEmpty == false, "\(name) has no help")
            if family.type == "counter" { #expect(name.hasSuffix("_total"), "\(name)") }
            if family.type == "histogram" { #expect(name.hasSuffix("_seconds"), "\(name)") }
        }
    }

    @Test("A first response after 20 minutes lands in the 30-minute bucket, not in +Inf")
    func firstResponseBuckets() async throws {
        let scrape = try await busyScrape()
        #expect(scrape.contains(#"paten_first_response_seconds_bucket{tier="volunteer",le="900.0"} 0"#))
        #expect(scrape.contains(#"paten_first_response_seconds_bucket{tier="volunteer",le="1800.0"} 1"#))
        #expect(scrape.contains(#"paten_first_response_seconds_count{tier="volunteer"} 1"#))
        #expect(scrape.contains(#"paten_ratings_total{score="5"} 1"#))
        #expect(scrape.contains(#"http_route="NotFound""#))
    }

    @Test("Hummingbird's labels are renamed; other dots become underscores")
    func sanitize() {
        let (name, labels) = PatenMetrics.sanitize("hb.requests", [("http.route", "/v1/me"), ("http.request.method", "GET")])
        #expect(name == "http_server_requests_total")
        #expect(labels.map(\.0) == ["http_route", "http_request_method"])
        #expect(PatenMetrics.sanitize("http.server.request.duration", []).0 == "http_server_request_duration_seconds")
        #expect(PatenMetrics.sanitize("some.other.metric", []).0 == "some_other_metric")
        #expect(PatenMetrics.durationBuckets(for: "paten_resolution_seconds") == PatenMetrics.responseTimeBuckets)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// The families of a scrape, by name: `# TYPE` and `# HELP` lines, and the label names of each sample.
    static func families(_ text: String) -> [String: ScrapedFamily] {
        var families: [String: ScrapedFamily] = [:]
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# TYPE ") || line.hasPrefix("# HELP ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1).map(String.init)
                guard let name = parts.first else { continue }
                if line.hasPrefix("# TYPE ") {
                    families[name, default: ScrapedFamily()].type = parts.count > 1 ? parts[1] : nil
                } else {
                    families[name, default: ScrapedFamily()].help = parts.count > 1 ? parts[1] : ""
                }
                continue
            }
            guard !line.hasPrefix("#") else { continue }
            let sample = line.prefix { $0 != "{" && $0 != " " }
            var family = String(sample)
            if families[family] == nil {
                for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
                    let base = String(sample.dropLast(suffix.count))
                    if families[base]?.type == "histogram" { family = base }
                }
            }
            guard let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") else { continue }
            for pair in Self.labelPairs(String(line[line.index(after: open)..<close])) {
                if pair.0 == "le" {
                    // The buckets of the family's first series (up to its +Inf).
                    if families[family]?.bounds.last != "+Inf" {
                        families[family, default: ScrapedFamily()].bounds.append(pair.1)
                    }
                } else {
                    families[family, default: ScrapedFamily()].labels.insert(pair.0)
                }
            }
        }
        return families
    }

    /// `a="x",b="y"` as pairs (values here hold no escaped quotes).
    static func labelPairs(_ text: String) -> [(String, String)] {
        var pairs: [(String, String)] = []
        var rest = Substring(text)
        while let equals = rest.firstIndex(of: "=") {
            let name = String(rest[..<equals])
            let valueStart = rest.index(equals, offsetBy: 2)
            guard let valueEnd = rest[valueStart...].firstIndex(of: "\"") else { break }
            pairs.append((name, String(rest[valueStart..<valueEnd])))
            rest = rest[rest.index(after: valueEnd)...]
            if rest.first == "," { rest = rest.dropFirst() }
        }
        return pairs
    }

    /// The rows of the table under `## Prometheus` in docs/metrics.md: metric, type, labels, help, buckets.
    static func documented() throws -> [DocumentedMetric] {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/metrics.md"), encoding: .utf8)
        let section = try #require(text.range(of: "## Prometheus"), "docs/metrics.md has no Prometheus section")
        var rows: [DocumentedMetric] = []
        for line in text[section.upperBound...].split(separator: "\n") {
            if line.hasPrefix("## ") { break }
            guard line.hasPrefix("| `") else { continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            try #require(cells.count == 5, "docs/metrics.md: \(line)")
            let unquoted = { (cell: String) in cell.replacingOccurrences(of: "`", with: "") }
            rows.append(
                DocumentedMetric(
                    name: unquoted(cells[0]), type: cells[1],
                    labels: Set(cells[2].split(separator: ",").map { unquoted($0.trimmingCharacters(in: .whitespaces)) }),
                    help: cells[3], buckets: try cells[4].split(separator: ",").map { try Self.bucket($0) }
                )
            )
        }
        return rows
    }

    /// `30 s`, `5 min`, `2 h`, `1 d`, `250 ms` in seconds.
    static func bucket(_ text: Substring) throws -> Double {
        let parts = text.split(separator: " ")
        let value = try #require(parts.count == 2 ? Double(parts[0]) : nil, "bucket \(text)")
        let units: [Substring: Double] = ["ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400]
        return value * (try #require(units[parts[1]], "bucket unit in \(text)"))
    }
}
