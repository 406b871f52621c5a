import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PatenCore
import PatenPostgres
import PatenTestSupport
import Testing

@Suite("Idempotency-Key on intake and follow-ups")
struct IdempotencyAPITests {
    static let keyHeader = HTTPField.Name("Idempotency-Key") ?? .accept
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed") ?? .accept

    @Test(
        "A retry with the same key and body answers the first response again; one question exists",
        arguments: Backend.available
    )
    func retry(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let bridge = try await env.account("bridge", .integration)
            let first = try await client.post("/v1/questions", token: bridge.token, key: "retry-1", json: questionBody())
            #expect(first.status == 201)
            #expect(first.headers[Self.replayedHeader] == nil)
            let id = try #require(first.string("id"))
            env.clock.advance(by: 3600)
            let again = try await client.post("/v1/questions", token: bridge.token, key: "retry-1", json: questionBody())
            #expect(again.status == 201)
            #expect(again.raw == first.raw)
            #expect(again.string("id") == id)
            #expect(again.headers[Self.replayedHeader] == "true")
            #expect(again.headers[.contentType] == first.headers[.contentType])
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 1)

            // The same key with another body is a mistake in the client, not a retry.
            let other = try await client.post(
                "/v1/questions", token: bridge.token, key: "retry-1", json: questionBody("Another question")
            )
            #expect(other.status == 422)
            #expect(other.errorCode == "idempotency_key_reused")
            // Another account's key of the same name is its own.
            let webform = try await env.account("webform", .integration)
            let theirs = try await client.post("/v1/questions", token: webform.token, key: "retry-1", json: questionBody())
            #expect(theirs.status == 201)
            #expect(theirs.headers[Self.replayedHeader] == nil)
            #expect(theirs.string("id") != id)
            // Without a key every request is new, as before.
            #expect(try await client.call(.post, "/v1/questions", token: bridge.token, json: questionBody()).status == 201)
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 3)
        }
    }

    @Test("Of 20 concurrent requests with one key exactly one question is made", arguments: Backend.available)
    func concurrent(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let bridge = try await env.account("bridge", .integration)
            // Each answer as (status, replayed, question id, error code): the parsed body is not Sendable.
            typealias Answer = (status: Int, replayed: Bool, id: String?, code: String?)
            let answers = try await withThrowingTaskGroup(of: Answer.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let response = try await client.post(
                            "/v1/questions", token: bridge.token, key: "burst", json: questionBody()
                        )
                        return (
                            response.status, response.headers[Self.replayedHeader] == "true", response.string("id"),
                            response.errorCode
                        )
                    }
                }
                return try await group.reduce(into: [Answer]()) { $0.append($1) }
            }
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 1)
            let created = answers.filter { $0.status == 201 }
            #expect(created.filter { !$0.replayed }.count == 1)
            #expect(Set(created.compactMap(\.id)).count == 1)
            for refused in answers where refused.status != 201 {
                #expect(refused.status == 409)
                #expect(refused.code == "idempotency_key_in_use")
            }
            // Once the first has finished, a retry is answered from the stored response.
            let retry = try await client.post("/v1/questions", token: bridge.token, key: "burst", json: questionBody())
            #expect(retry.headers[Self.replayedHeader] == "true")
            #expect(retry.string("id") == created.first?.id)
        }
    }

    @Test("A request that fails does not use up its key: the corrected retry is made", arguments: Backend.available)
    func failureFreesKey(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let bridge = try await env.account("bridge", .integration)
            let invalid = try await client.post(
                "/v1/questions", token: bridge.token, key: "fix-me", json: questionBody("   ")
            )
            #expect(invalid.status == 422)
            #expect(invalid.errorCode == "subject_required")
            let unreadable = try await client.post("/v1/questions", token: bridge.token, key: "fix-me", raw: "{")
            #expect(unreadable.status == 400)
            let fixed = try await client.post("/v1/questions", token: bridge.token, key: "fix-me", json: questionBody())
            #expect(fixed.status == 201)
            #expect(fixed.headers[Self.replayedHeader] == nil)
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 1)
            #expect(try await env.store.count("SELECT COUNT(*) FROM idempotency_keys WHERE response_status IS NULL") == 0)
            // A role that may not submit leaves nothing behind either.
            let volunteer = try await env.account("vera", .volunteer)
            let forbidden = try await client.post("/v1/questions", token: volunteer.token, key: "fix-me", json: questionBody())
            #expect(forbidden.status == 403)
            #expect(try await env.store.count("SELECT COUNT(*) FROM idempotency_keys") == 1)
        }
    }

    @Test("A follow-up retried with its key is stored once and answered again", arguments: Backend.available)
    func followUp(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let bridge = try await env.account("bridge", .integration)
            let question = try await env.submit("Roaming", by: bridge.helper)
            let path = "/v1/questions/\(question.id)/messages"
            let first = try await client.post(path, token: bridge.token, key: "msg-1", json: ["body": "Any news?"])
            #expect(first.status == 201)
            let again = try await client.post(path, token: bridge.token, key: "msg-1", json: ["body": "Any news?"])
            #expect(again.status == 201)
            #expect(again.raw == first.raw)
            #expect(again.headers[Self.replayedHeader] == "true")
            #expect(try await env.store.count("SELECT COUNT(*) FROM messages WHERE question_id = ?", [question.id]) == 2)
            // The key belongs to this route: on intake, or on another question, it is unrelated.
            let other = try await env.submit("Other", by: bridge.helper)
            let elsewhere = try await client.post(
                "/v1/questions/\(other.id)/messages", token: bridge.token, key: "msg-1", json: ["body": "Any news?"]
            )
            #expect(elsewhere.status == 201)
            #expect(elsewhere.headers[Self.replayedHeader] == nil)
            let intake = try await client.post("/v1/questions", token: bridge.token, key: "msg-1", json: questionBody())
            #expect(intake.status == 201)
            #expect(intake.headers[Self.replayedHeader] == nil)
        }
    }

    /// Makes every attempt to store a response under a key fail, as a busy or broken database would after the
    /// write committed; `false` heals it.
    static func loseResponses(_ env: TestEnvironment, _ lose: Bool) async throws {
        let statements: [String]
        switch (env.backend, lose) {
        case (.sqlite, true):
            statements = [
                """
                CREATE TRIGGER lose_responses BEFORE UPDATE OF response_status ON idempotency_keys
                WHEN NEW.response_status IS NOT NULL BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END
                """
            ]
        case (.postgres, true):
            statements = [
                """
                CREATE FUNCTION lose_responses() RETURNS trigger LANGUAGE plpgsql
                AS $$ BEGIN RAISE EXCEPTION 'disk I/O error'; END $$
                """,
                """
                CREATE TRIGGER lose_responses BEFORE UPDATE OF response_status ON idempotency_keys FOR EACH ROW
                WHEN (NEW.response_status IS NOT NULL) EXECUTE FUNCTION lose_responses()
                """,
            ]
        case (.sqlite, false), (.postgres, false):
            statements = ["DROP TRIGGER lose_responses" + (env.backend == .postgres ? " ON idempotency_keys" : "")]
        }
        for statement in statements {
            switch env.backend {
            case .sqlite:
                let queue = try DatabaseQueue(path: env.runtime.configuration.databasePath)
                try await queue.write { db in try db.execute(sql: statement) }
            case .postgres:
                try await execute(statement, on: try DatabaseURL(try #require(env.runtime.configuration.databaseURL)))
            }
        }
    }

    @Test(
        "A question whose response could not be stored is never made twice: a retry, even after minutes, answers it",
        arguments: Backend.available
    )
    func responseLostAfterWrite(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let bridge = try await env.account("bridge", .integration)
            try await Self.loseResponses(env, true)
            // The question is made and answered, though its response could not be kept for retries.
            let first = try await client.post("/v1/questions", token: bridge.token, key: "lost-1", json: questionBody())
            #expect(first.status == 201)
            let id = try #require(first.string("id"))
            // The client did not get it (say the connection dropped) and retries at once: the same question.
            let soon = try await client.post("/v1/questions", token: bridge.token, key: "lost-1", json: questionBody())
            #expect(soon.status == 201)
            #expect(soon.string("id") == id)
            #expect(soon.headers[Self.replayedHeader] == "true")
            // Long after the reservation would have lapsed, still the same question, now answered from storage.
            try await Self.loseResponses(env, false)
            env.clock.advance(by: IdempotencyKey.reservationTimeout * 5)
            let late = try await client.post("/v1/questions", token: bridge.token, key: "lost-1", json: questionBody())
            #expect(late.status == 201)
            #expect(late.string("id") == id)
            #expect(late.string("subject") == "My eSIM will not activate")
            #expect(late.headers[Self.replayedHeader] == "true")
            let again = try await client.post("/v1/questions", token: bridge.token, key: "lost-1", json: questionBody())
            #expect(again.raw == late.raw)
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 1)
            #expect(try await env.store.count("SELECT COUNT(*) FROM idempotency_keys WHERE response_status = 201") == 1)
            // Another body under the key is still a mistake.
            let other = try await client.post(
                "/v1/questions", token: bridge.token, key: "lost-1", json: questionBody("Another question")
            )
            #expect(other.status == 422)
            #expect(other.errorCode == "idempotency_key_reused")
        }
    }

    @Test(
        "A follow-up whose response could not be stored is never posted twice: a retry answers that message",
        arguments: Backend.available
    )
    func followUpLostAfterWrite(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let bridge = try await env.account("bridge", .integration)
            let question = try await env.submit("Roaming", by: bridge.helper)
            let path = "/v1/questions/\(question.id)/messages"
            try await Self.loseResponses(env, true)
            let first = try await client.post(path, token: bridge.token, key: "lost-msg", json: ["body": "Any news?"])
            #expect(first.status == 201)
            let messageId = try #require((first.body["message"] as? [String: Any])?["id"] as? String)
            try await Self.loseResponses(env, false)
            env.clock.advance(by: IdempotencyKey.reservationTimeout * 5)
            let retry = try await client.post(path, token: bridge.token, key: "lost-msg", json: ["body": "Any news?"])
            #expect(retry.status == 201)
            #expect(retry.headers[Self.replayedHeader] == "true")
            #expect((retry.body["message"] as? [String: Any])?["id"] as? String == messageId)
            #expect((retry.body["message"] as? [String: Any])?["body"] as? String == "Any news?")
            #expect((retry.body["question"] as? [String: Any])?["id"] as? String == question.id)
            #expect(try await env.store.count("SELECT COUNT(*) FROM messages WHERE question_id = ?", [question.id]) == 2)
        }
    }

    @Test("A malformed key is refused with 400 and nothing is made")
    func malformedKey() async throws {
        try await withAPI { env, client in
            let bridge = try await env.account("bridge", .integration)
            for key in ["", String(repeating: "k", count: 256), "schlüssel"] {
                let refused = try await client.post("/v1/questions", token: bridge.token, key: key, json: questionBody())
                #expect(refused.status == 400, "\(key)")
                #expect(refused.errorCode == "invalid_idempotency_key", "\(key)")
            }
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(bridge.token)"
            headers.append(HTTPField(name: Self.keyHeader, value: "one"))
            headers.append(HTTPField(name: Self.keyHeader, value: "two"))
            let twice = try await client.execute(
                uri: "/v1/questions", method: .post, headers: headers,
                body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: questionBody(), options: [.sortedKeys]))
            ) { Int($0.status.code) }
            #expect(twice == 400)
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 0)
        }
    }
}

extension TestClientProtocol {
    /// Sends a POST with an `Idempotency-Key` header and a JSON body (an object, or raw text).
    fileprivate func post(
        _ path: String, token: String, key: String, json: [String: Any]? = nil, raw: String? = nil
    ) async throws -> APIResponse {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        headers[.contentType] = "application/json"
        headers[IdempotencyAPITests.keyHeader] = key
        let body =
            try json.map { ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys])) }
            ?? ByteBuffer(string: raw ?? "")
        return try await execute(uri: path, method: .post, headers: headers, body: body) { response in
            let text = String(buffer: response.body)
            let parsed = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            return APIResponse(status: Int(response.status.code), body: parsed, raw: text, headers: response.headers)
        }
    }
}
