import Foundation
import PatenApp
import PatenCore
import PatenTestSupport
import Testing

@Suite("The HTTP server's timeouts and connection cap, over real sockets")
struct ServerLimitsTests {
    /// Short limits, each far from the others so that the test can tell which one acted. The upper bounds below are
    /// loose on purpose: these tests share two cores with the whole suite, and only the order of events matters.
    static func limits(_ configuration: inout PatenConfiguration) {
        configuration.httpReadHeaderTimeout = .seconds(1)
        configuration.httpReadTimeout = .seconds(3)
        configuration.httpIdleTimeout = .seconds(20)
    }

    @Test("A client sending its request line and headers byte by byte is cut off after the header timeout")
    func slowHeaders() async throws {
        try await withLiveServer(configure: Self.limits) { _, port in
            // Timed from before connecting: a connection's first request counts from its opening, and the server
            // cannot open it earlier.
            let started = ContinuousClock.now
            let connection = try await RawConnection.open(port: port)
            // A byte every 100 ms: the connection is never idle, but the head never completes in time.
            let head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + String(repeating: "a", count: 150)
            for byte in head {
                guard await connection.send(String(byte)), !connection.isClosed else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(await connection.waitUntilClosed(within: .seconds(1)))
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(12), "closed after \(elapsed)")
            #expect(!connection.text.contains("200 OK"))
        }
    }

    @Test("A connection that sends nothing is closed after the header timeout, long before the idle timeout")
    func silentConnection() async throws {
        try await withLiveServer(configure: Self.limits) { _, port in
            // Timed from before connecting: the server cannot start its clock earlier.
            let started = ContinuousClock.now
            let connection = try await RawConnection.open(port: port)
            #expect(await connection.waitUntilClosed(within: .seconds(12)))
            let elapsed = ContinuousClock.now - started
            // Well before the idle timeout (20 s), which alone would leave a silent client its slot that long.
            #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(12), "closed after \(elapsed)")
            #expect(connection.text.isEmpty)
        }
    }

    @Test("A client sending its body byte by byte is cut off after the read timeout")
    func slowBody() async throws {
        try await withLiveServer(configure: Self.limits) { env, port in
            let admin = try await env.account("boss", .admin)
            let started = ContinuousClock.now
            let connection = try await RawConnection.open(port: port)
            await connection.send(
                "POST /v1/questions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(admin.token)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 400\r\n\r\n{"
            )
            for _ in 0..<170 {
                guard await connection.send(" "), !connection.isClosed else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(await connection.waitUntilClosed(within: .seconds(1)))
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(2900) && elapsed < .seconds(15), "closed after \(elapsed)")
        }
    }

    @Test("A quick request is answered, and an idle keep-alive connection is closed after the idle timeout")
    func idleKeepAlive() async throws {
        try await withLiveServer(
            configure: {
                Self.limits(&$0)
                $0.httpIdleTimeout = .seconds(5)
            }
        ) { _, port in
            let connection = try await RawConnection.open(port: port)
            // Timed from before the request: the server cannot start its idle clock earlier, however late this task
            // notices the answer on a busy machine.
            let sent = ContinuousClock.now
            await connection.get("/healthz", keepAlive: true)
            #expect(await connection.waitFor(#""status":"ok""#, within: .seconds(5)))
            // The header timeout (1 s) does not count between requests: the connection stays for a second request.
            try await Task.sleep(for: .seconds(2))
            #expect(!connection.isClosed)
            #expect(await connection.waitUntilClosed(within: .seconds(15)))
            let idle = ContinuousClock.now - sent
            #expect(idle >= .milliseconds(4800) && idle < .seconds(18), "closed after \(idle) idle")
        }
    }

    @Test("An escalation stream outlives the idle timeout: a response being written is not idle")
    func streamOutlivesIdleTimeout() async throws {
        try await withLiveServer(
            configure: {
                Self.limits(&$0)
                $0.httpIdleTimeout = .seconds(1)
                $0.streamHeartbeatInterval = .seconds(30)
            }
        ) { env, port in
            let staff = try await env.account("lead", .staff)
            let stream = try await RawConnection.open(port: port)
            await stream.get("/v1/escalations/stream", token: staff.token)
            #expect(await stream.waitFor(": connected", within: .seconds(5)))
            try await Task.sleep(for: .seconds(3))
            #expect(!stream.isClosed)
            let question = try await env.submit("My phone was stolen", by: staff.helper)
            #expect(await stream.waitFor(question.id, within: .seconds(5)))
            await stream.close()
        }
    }

    @Test("Over http_max_connections a connection is not served until one of the open ones closes")
    func connectionCap() async throws {
        try await withLiveServer(
            configure: {
                Self.limits(&$0)
                $0.httpMaxConnections = 2
            }
        ) { _, port in
            // Two connections the server has accepted (each answered once) and that stay open.
            var held: [RawConnection] = []
            for _ in 0..<2 {
                let connection = try await RawConnection.open(port: port)
                await connection.get("/healthz", keepAlive: true)
                #expect(await connection.waitFor(#""status":"ok""#, within: .seconds(5)))
                held.append(connection)
            }
            let third = try await RawConnection.open(port: port)
            await third.get("/healthz")
            #expect(await third.waitFor("HTTP/1.1", within: .seconds(1)) == false, "\(third.text)")

            await held[0].close()
            #expect(await third.waitFor(#""status":"ok""#, within: .seconds(5)), "\(third.text)")
            await held[1].close()
        }
    }

    @Test("The limits are read from the environment and checked")
    func configuration() async throws {
        let environment = [
            "PATEN_HTTP_IDLE_TIMEOUT": "30", "PATEN_HTTP_READ_HEADER_TIMEOUT": "5", "PATEN_HTTP_READ_TIMEOUT": "20",
            "PATEN_HTTP_MAX_CONNECTIONS": "64", "PATEN_STREAM_RECHECK_INTERVAL": "2", "PATEN_STREAMS_PER_ACCOUNT": "2",
            "PATEN_STREAM_HEARTBEAT_INTERVAL": "10", "PATEN_METRICS_CACHE_SECONDS": "0",
            "PATEN_METRICS_TOKEN": "0123456789abcdef0123",
        ]
        let settings = try await PatenConfiguration.load(environment: environment)
        #expect(settings.httpIdleTimeout == .seconds(30))
        #expect(settings.httpReadHeaderTimeout == .seconds(5))
        #expect(settings.httpReadTimeout == .seconds(20))
        #expect(settings.httpMaxConnections == 64)
        #expect(settings.streamRecheckInterval == .seconds(2))
        #expect(settings.streamsPerAccount == 2)
        #expect(settings.streamHeartbeatInterval == .seconds(10))
        #expect(settings.metricsCacheDuration == .zero)
        #expect(settings.metricsToken == "0123456789abcdef0123")

        let defaults = try await PatenConfiguration.load(environment: [:])
        #expect(defaults.httpIdleTimeout == .seconds(60) && defaults.httpReadHeaderTimeout == .seconds(10))
        #expect(defaults.httpMaxConnections == 1000 && defaults.streamsPerAccount == 4)
        #expect(defaults.metricsToken == nil)

        for (key, value) in [
            ("PATEN_HTTP_IDLE_TIMEOUT", "0"), ("PATEN_HTTP_MAX_CONNECTIONS", "lots"), ("PATEN_STREAMS_PER_ACCOUNT", "0"),
            ("PATEN_HTTP_READ_TIMEOUT", "3"), ("PATEN_METRICS_TOKEN", "short"), ("PATEN_METRICS_CACHE_SECONDS", "-1"),
        ] {
            await #expect(throws: PatenError.self, "\(key)=\(value)") {
                _ = try await PatenConfiguration.load(environment: [key: value])
            }
        }
    }
}
