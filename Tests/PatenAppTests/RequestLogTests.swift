import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PatenApp
import PatenCore
import PatenHTTP
import PatenTestSupport
import Synchronization
import Testing

/// Lines a test's JSON log handler wrote.
final class CapturedLines: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    /// A logger writing JSON lines here.
    func logger(_ label: String) -> Logger {
        Logger(label: label) { label in JSONLogHandler(label: label, write: { self.append($0) }) }
    }

    /// Each line parsed as one JSON object (a line that is not one fails the test).
    func objects() throws -> [[String: Any]] {
        try all.map { line in
            #expect(line.hasSuffix("}\n") && line.dropLast().firstIndex(of: "\n") == nil, "\(line)")
            return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        }
    }
}

@Suite("Access log and request ids")
struct RequestLogTests {
    @Test("Every request gets one JSON access line with its id, route pattern, status, bytes and account")
    func accessLine() async throws {
        try await withTestEnvironment { env in
            let staff = try await env.account("sam", .staff)
            let lines = CapturedLines()
            let app = Application(router: buildRouter(env.runtime, accessLog: lines.logger("paten.access")))
            try await app.test(.router) { client in
                var headers = HTTPFields()
                headers[.authorization] = "Bearer \(staff.token)"
                headers[.xRequestId] = "trace-42.a:b_c"
                let answer = try await client.execute(uri: "/v1/questions/q_doesnotexist", method: .get, headers: headers) {
                    $0
                }
                #expect(answer.status == .notFound)
                #expect(answer.headers[.xRequestId] == "trace-42.a:b_c")

                // A rating token is in the path: the log names the route, never the path.
                let rating = try await client.execute(uri: "/v1/ratings/rt_secret-token", method: .get) { $0 }
                let generated = try #require(rating.headers[.xRequestId])
                #expect(generated.count == 32 && generated.allSatisfy(\.isHexDigit))

                // An id that could forge log lines or carry anything else is replaced.
                var forged = HTTPFields()
                forged[.xRequestId] = "evil\",\"status\":200"
                let replaced = try await client.execute(uri: "/healthz", method: .get, headers: forged) { $0 }
                #expect(replaced.headers[.xRequestId] != "evil\",\"status\":200")
            }
            let objects = try lines.objects()
            #expect(objects.count == 3)
            let first = try #require(objects.first)
            #expect(first["request_id"] as? String == "trace-42.a:b_c")
            #expect(first["route"] as? String == "/v1/questions/{id}")
            #expect(first["status"] as? String == "404")
            #expect(first["method"] as? String == "GET")
            #expect(first["account"] as? String == staff.helper.id)
            #expect(first["level"] as? String == "info" && first["logger"] as? String == "paten.access")
            #expect((first["bytes"] as? String).flatMap { Int($0) } ?? 0 > 0)
            #expect(first["time"] as? String != nil && first["duration_ms"] as? String != nil)
            #expect(!lines.all.joined().contains("q_doesnotexist"))
            #expect(!lines.all.joined().contains("rt_secret-token"))
            #expect(objects[1]["route"] as? String == "/v1/ratings/{token}")
            #expect(objects[1]["account"] == nil)
        }
    }

    @Test("A server error's body names the request id its log lines carry")
    func serverErrorNamesRequest() async throws {
        struct Boom: Error {}
        let lines = CapturedLines()
        let router = Router(context: PatenRequestContext.self)
        router.add(middleware: RequestLogMiddleware(logger: lines.logger("paten.access")))
        router.add(middleware: PatenErrorMiddleware())
        router.get("boom") { _, _ -> String in throw Boom() }
        try await Application(router: router).test(.router) { client in
            var headers = HTTPFields()
            headers[.xRequestId] = "req-500"
            let response = try await client.execute(uri: "/boom", method: .get, headers: headers) { $0 }
            #expect(response.status == .internalServerError)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            let details = (body["error"] as? [String: Any])?["details"] as? [String: Any]
            #expect(details?["request_id"] as? String == "req-500", "\(body)")
        }
        #expect(try lines.objects().first?["status"] as? String == "500")
    }

    @Test("JSON log lines stay one line whatever the message holds")
    func escaping() throws {
        let lines = CapturedLines()
        var logger = lines.logger("test")
        logger[metadataKey: "message"] = "shadowed"
        logger.warning("a \"quoted\"\nsecond line\u{1}\u{2028}", metadata: ["list": ["a", "b"], "map": ["k": "v"]])
        let object = try #require(try lines.objects().first)
        #expect(object["message"] as? String == "a \"quoted\"\nsecond line\u{1}\u{2028}")
        #expect(object["meta_message"] as? String == "shadowed")
        #expect(object["list"] as? [String] == ["a", "b"])
        #expect((object["map"] as? [String: String])?["k"] == "v")
        #expect(object["level"] as? String == "warning")
    }
}
