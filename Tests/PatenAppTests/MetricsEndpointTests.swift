import Foundation
import HummingbirdTesting
import PatenApp
import PatenCore
import PatenTestSupport
import Testing

@Suite("GET /metrics: cached gauges and the scrape token")
struct MetricsEndpointTests {
    @Test(
        "Scrapes within metrics_cache_seconds reuse one database read; the next read comes when the clock moves on",
        arguments: Backend.available)
    func cachedGauges(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend, configure: { $0.metricsCacheDuration = .seconds(5) }) { env in
            let app = buildApplication(env.runtime, logger: .init(label: "paten-test"))
            try await app.test(.router) { client in
                let staff = try await env.account("lead", .staff)
                let depth = #"paten_queue_depth{tier="volunteer"} "#
                #expect(try await client.call(.get, "/metrics").raw.contains(depth + "0"))

                // A new question within the window: every scrape still shows the first read.
                _ = try await env.submit("My eSIM will not activate", by: staff.helper)
                for _ in 0..<20 {
                    #expect(try await client.call(.get, "/metrics").raw.contains(depth + "0"))
                }
                env.clock.advance(by: 4.9)
                #expect(try await client.call(.get, "/metrics").raw.contains(depth + "0"))
                env.clock.advance(by: 0.1)
                #expect(try await client.call(.get, "/metrics").raw.contains(depth + "1"))
            }
        }
    }

    @Test("With metrics_cache_seconds 0 every scrape reads the database")
    func uncached() async throws {
        try await withTestEnvironment(configure: { $0.metricsCacheDuration = .zero }) { env in
            let app = buildApplication(env.runtime, logger: .init(label: "paten-test"))
            try await app.test(.router) { client in
                let staff = try await env.account("lead", .staff)
                #expect(try await client.call(.get, "/metrics").raw.contains(#"paten_queue_depth{tier="volunteer"} 0"#))
                _ = try await env.submit("My eSIM will not activate", by: staff.helper)
                #expect(try await client.call(.get, "/metrics").raw.contains(#"paten_queue_depth{tier="volunteer"} 1"#))
            }
        }
    }

    @Test("With metrics_token set, a scrape needs exactly that bearer token; anything else is 401 unauthenticated")
    func token() async throws {
        let secret = "scrape-3f9a1c0d8e7b6a5f"
        try await withTestEnvironment(configure: { $0.metricsToken = secret }) { env in
            let app = buildApplication(env.runtime, logger: .init(label: "paten-test"))
            try await app.test(.router) { client in
                let admin = try await env.account("boss", .admin)
                for token in [nil, "", secret + "x", String(secret.dropLast()), admin.token] as [String?] {
                    let refused = try await client.call(.get, "/metrics", token: token)
                    #expect(refused.status == 401, "\(token ?? "no token")")
                    #expect(refused.errorCode == "unauthenticated")
                    #expect(refused.headers[.wwwAuthenticate] == "Bearer")
                    #expect(!refused.raw.contains("paten_queue_depth"))
                }
                let scraped = try await client.call(.get, "/metrics", token: secret)
                #expect(scraped.status == 200)
                #expect(scraped.raw.contains("# TYPE paten_queue_depth gauge"))
                // The operations endpoints stay open.
                #expect(try await client.call(.get, "/healthz").status == 200)
            }
        }
    }

    @Test("Without metrics_token the endpoint stays open, as before")
    func openWithoutToken() async throws {
        try await withAPI { _, client in
            let scraped = try await client.call(.get, "/metrics")
            #expect(scraped.status == 200)
        }
    }
}
