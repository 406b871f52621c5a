import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import OpenAPIRuntime
import PatenApp
import PatenCore
import PatenTestSupport
import Testing

@Suite("Escalations, ratings and metrics over HTTP")
struct StaffAPITests {
    @Test("The live stream delivers a new escalation to a connected client, and resumes from Last-Event-ID", arguments: Backend.available)
    func stream(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff)
            var logger = Logger(label: "paten-test")
            logger.logLevel = .critical
            let app = buildApplication(env.runtime, logger: logger)
            try await app.test(.live) { client in
                let port = try #require(client.port)
                func open(lastEventID: String?) async throws -> HTTPClientResponse {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/escalations/stream")
                    request.headers.add(name: "Authorization", value: "Bearer \(staff.token)")
                    if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
                    return try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                }
                func firstEvent(_ response: HTTPClientResponse) async throws -> ServerSentEvent? {
                    try await withThrowingTaskGroup(of: ServerSentEvent?.self) { group in
                        group.addTask {
                            // Decoded as the CLI decodes it: OpenAPIRuntime's Server-Sent Events decoder.
                            let bytes = HTTPBody(
                                response.body.map { ArraySlice($0.readableBytesView) }, length: .unknown,
                                iterationBehavior: .single
                            )
                            for try await event in bytes.asDecodedServerSentEvents() where event.data != nil {
                                return event
                            }
                            return nil
                        }
                        group.addTask {
                            try await Task.sleep(for: .seconds(10))
                            return nil
                        }
                        let first = try await group.next() ?? nil
                        group.cancelAll()
                        return first
                    }
                }

                let live = try await open(lastEventID: nil)
                #expect(live.status == .ok)
                #expect(live.headers.first(name: "Content-Type") == "text/event-stream")
                let question = try await env.submit("My phone was stolen", by: staff.helper)
                let event = try #require(try await firstEvent(live))
                #expect(event.event == "escalation.created")
                #expect(event.data?.contains("\"reason\":\"critical_intake\"") == true)
                #expect(event.data?.contains(question.id) == true)

                // A second escalation; resuming after the first must deliver exactly the second.
                let second = try await env.submit("Fraud on my account", by: staff.helper)
                let resumed = try #require(try await firstEvent(try await open(lastEventID: event.id)))
                #expect(resumed.data?.contains(second.id) == true)
                #expect(resumed.id != event.id)
            }
        }
    }

    @Test("Staff list, acknowledge and resolve escalations; volunteers are refused", arguments: Backend.available)
    func escalationRoutes(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("lead", .staff)
            let volunteer = try await env.account("vol", .volunteer)
            let question = try await env.submit("Fraud on my bill", by: staff.helper)
            let list = try await client.call(.get, "/v1/escalations?state=open", token: staff.token)
            let escalations = try #require(list.body["escalations"] as? [[String: Any]])
            #expect(escalations.count == 1)
            #expect(escalations.first?["question_id"] as? String == question.id)
            let id = try #require(escalations.first?["id"] as? String)
            #expect(try await client.call(.get, "/v1/escalations", token: volunteer.token).status == 403)
            for query in ["level=3x", "level=0", "level=3", "min_age=-1", "min_age=soon", "min_age=10212577377731874922692608"] {
                let refused = try await client.call(.get, "/v1/escalations?\(query)", token: staff.token)
                #expect(refused.status == 400, "\(query)")
                #expect(refused.errorCode == "invalid_query", "\(query)")
            }
            #expect(try await client.call(.get, "/v1/escalations?level=1&min_age=0", token: staff.token).status == 200)
            // A resume point that is not an event id is refused in either place, before the stream opens; a valid
            // header does not hide a bad query value.
            for query in ["last_event_id=abc", "last_event_id=-1", "last_event_id=%2B5", "last_event_id=9223372036854775808"] {
                let refused = try await client.call(.get, "/v1/escalations/stream?\(query)", token: staff.token)
                #expect(refused.status == 400, "\(query)")
                #expect(refused.errorCode == "invalid_last_event_id", "\(query)")
            }
            let badHeader = try await client.execute(
                uri: "/v1/escalations/stream?last_event_id=x", method: .get,
                headers: [.authorization: "Bearer \(staff.token)", HTTPField.Name("Last-Event-ID")!: "0"]
            ) { $0.status }
            #expect(badHeader == .badRequest)
            #expect(try await client.call(.post, "/v1/escalations/\(id)/acknowledge", token: staff.token).string("state") == "acknowledged")
            #expect(try await client.call(.post, "/v1/escalations/\(id)/acknowledge", token: staff.token).status == 409)
            #expect(try await client.call(.post, "/v1/escalations/\(id)/resolve", token: staff.token).string("state") == "resolved")
            #expect(try await client.call(.post, "/v1/escalations/esc_nope/resolve", token: staff.token).status == 404)
            #expect(try await client.call(.get, "/v1/escalations?state=open", token: staff.token).raw.contains(id) == false)
        }
    }

    @Test("A rating link works without a login, once", arguments: Backend.available)
    func ratingRoute(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("lead", .staff)
            let question = try await env.submit("Voicemail", by: staff.helper)
            _ = try await env.desk.resolve(question.id, note: "Answered by phone", by: staff.helper)
            let url = try #require(try await client.call(.get, "/v1/questions/\(question.id)", token: staff.token).string("rating_url"))
            let path = String(url.dropFirst(env.runtime.configuration.externalURL.count))
            #expect(try await client.call(.post, path, json: ["score": 9]).status == 422)
            #expect(try await client.call(.post, path, json: ["score": "five"]).status == 400)
            // Found by schemathesis: the longest comment the document allows, 2,000 code points outside the
            // Basic Multilingual Plane sent as escapes, is 24 KB of JSON and must not be a 413.
            let escaped = String(repeating: #"\ud83d\ude00"#, count: 2001)
            let tooLong = try await client.call(.post, path, raw: #"{"score":5,"comment":"\#(escaped)"}"#)
            #expect(tooLong.errorCode == "comment_too_long")
            let rated = try await client.call(.post, path, json: ["score": 5, "comment": "Great"])
            #expect(rated.status == 201)
            #expect(rated.string("question_id") == question.id)
            #expect(try await client.call(.post, path, json: ["score": 5]).status == 409)
            #expect(try await client.call(.post, "/v1/ratings/rt_unknown", json: ["score": 5]).status == 404)
        }
    }

    @Test("Summary and export for staff; 403 for volunteers; 400 for a bad period or format", arguments: Backend.available)
    func metricsRoutes(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("lead", .staff)
            let volunteer = try await env.account("vol", .volunteer)
            let question = try await env.submit("Roaming, \"Spain\"", customer: Customer(id: "c", name: "Zoë, Jr."), by: staff.helper)
            env.clock.advance(by: 90)
            _ = try await env.desk.reply(to: question.id, body: "Enable roaming", by: staff.helper)
            _ = try await env.desk.resolve(question.id, by: staff.helper)
            env.clock.advance(by: 1)

            let summary = try await client.call(.get, "/v1/metrics/summary?group_by=topic", token: staff.token)
            #expect(summary.status == 200)
            let groups = try #require(summary.body["groups"] as? [[String: Any]])
            #expect(groups.first?["key"] as? String == "roaming")
            #expect((groups.first?["first_response"] as? [String: Any])?["median"] as? Double == 90)

            let csv = try await client.call(.get, "/v1/metrics/export?format=csv", token: staff.token)
            #expect(csv.status == 200)
            #expect(csv.raw.hasPrefix("question_id,created_at,"))
            #expect(csv.raw.contains("\"Zoë, Jr.\""))
            #expect(csv.raw.contains(question.id))
            let json = try await client.call(.get, "/v1/metrics/export?format=json", token: staff.token)
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.raw.utf8)) as? [[String: Any]])
            #expect(rows.count == 1)
            #expect(rows.first?["first_response_seconds"] as? Int == 90)

            #expect(try await client.call(.get, "/v1/metrics/export", token: volunteer.token).status == 403)
            #expect(try await client.call(.get, "/v1/metrics/summary", token: volunteer.token).status == 403)
            #expect(try await client.call(.get, "/v1/metrics/export?format=xml", token: staff.token).status == 400)
            #expect(try await client.call(.get, "/v1/metrics/summary?from=yesterday", token: staff.token).status == 400)
            #expect(
                try await client.call(.get, "/v1/metrics/summary?from=2026-02-01&to=2026-01-01", token: staff.token).errorCode
                    == "invalid_period")
            #expect(try await client.call(.get, "/v1/metrics/summary?group_by=planet", token: staff.token).status == 400)
        }
    }

    @Test("/metrics speaks the Prometheus text format with queue depth and open escalations", arguments: Backend.available)
    func prometheus(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("lead", .staff)
            _ = try await env.submit("Roaming", by: staff.helper)
            _ = try await env.submit("Stolen phone", by: staff.helper)
            let response = try await client.call(.get, "/metrics")
            #expect(response.status == 200)
            #expect(response.raw.contains("# TYPE paten_queue_depth gauge"))
            #expect(response.raw.contains(#"paten_queue_depth{tier="volunteer"} 1"#))
            #expect(response.raw.contains(#"paten_queue_depth{tier="staff"} 1"#))
            #expect(response.raw.contains(#"paten_open_escalations{level="1"} 1"#))
        }
    }
}

@Suite("Server-Sent Events decoding")
struct ServerSentEventDecodingTests {
    /// The decoder `paten escalations --watch` reads the stream with (OpenAPIRuntime's).
    func events(_ chunks: [ArraySlice<UInt8>]) async throws -> [ServerSentEvent] {
        let body = HTTPBody(chunks.async, length: .unknown, iterationBehavior: .single)
        var events: [ServerSentEvent] = []
        for try await event in body.asDecodedServerSentEvents() { events.append(event) }
        return events
    }

    @Test("Events split anywhere, even inside a multi-byte character, come out whole; ids without data move the resume point")
    func chunked() async throws {
        let stream = Array("id: 7\n\n: heartbeat\n\nid: 8\nevent: escalation.created\ndata: {\"subject\":\"Zoë 🚀\"}\n\n".utf8)
        for split in 1..<stream.count {
            let decoded = try await events([stream[..<split], stream[split...]])
            #expect(
                decoded.filter { $0.data != nil } == [
                    ServerSentEvent(id: "8", event: "escalation.created", data: "{\"subject\":\"Zoë 🚀\"}")
                ])
            #expect(decoded.compactMap(\.id).last == "8")
        }
        let opening = try await events([ArraySlice("id: 41\n\n: connected\n\n".utf8)])
        #expect(opening.allSatisfy { $0.data == nil })
        #expect(opening.compactMap(\.id) == ["41"])
    }
}
