import Foundation
import PatenCore
import PatenTestSupport
import Testing

@Suite("Inbound webhooks")
struct InboundWebhookTests {
    @Test("A signed message.created makes a question in the integration's channel; a follow-up adds to it", arguments: Backend.available)
    func standardMessages(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let made = try await env.runtime.integrations.create(NewIntegration(name: "webchat", kind: .standard))
            let id = made.integration.id
            let first = try messageCreated(conversation: "conv-1", text: "My roaming does not work\nI am in Spain.", language: "en")
            let created = try await client.hook(
                id, headers: try standardHeaders(id: "wh-1", body: first, secrets: [made.secret], at: env.clock.now()),
                body: first
            )
            #expect(created.status == 200)
            #expect(created.string("result") == "question_created")
            let questionId = try #require(created.string("question_id"))
            let question = try #require(try await env.store.question(id: questionId))
            #expect(question.channel == id)
            #expect(question.subject == "My roaming does not work")
            #expect(question.customer == Customer(id: "cust-7", name: "Bea Kunde"))

            let followUp = try messageCreated(conversation: "conv-1", text: "Any news?")
            let added = try await client.hook(
                id, headers: try standardHeaders(id: "wh-2", body: followUp, secrets: [made.secret], at: env.clock.now()),
                body: followUp
            )
            #expect(added.string("result") == "message_added")
            #expect(added.string("question_id") == questionId)
            let detail = try #require(try await env.store.questionDetail(id: questionId, page: DetailPage()))
            #expect(detail.messages.map(\.body) == ["My roaming does not work\nI am in Spain.", "Any news?"])
            #expect(detail.events.last?.data["conversation_id"] == "conv-1")
        }
    }

    @Test("A repeated webhook id answers 200 and changes nothing, also for follow-ups", arguments: Backend.available)
    func dedupe(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let made = try await env.runtime.integrations.create(NewIntegration(name: "webchat", kind: .standard))
            let id = made.integration.id
            let body = try messageCreated(conversation: "conv-9", text: "Hello")
            let headers = try standardHeaders(id: "wh-same", body: body, secrets: [made.secret], at: env.clock.now())
            let first = try await client.hook(id, headers: headers, body: body)
            let again = try await client.hook(id, headers: headers, body: body)
            #expect(first.string("result") == "question_created")
            #expect(again.status == 200)
            #expect(again.string("result") == "duplicate")
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 1)

            let more = try messageCreated(conversation: "conv-9", text: "Still there?")
            let moreHeaders = try standardHeaders(id: "wh-more", body: more, secrets: [made.secret], at: env.clock.now())
            _ = try await client.hook(id, headers: moreHeaders, body: more)
            let moreAgain = try await client.hook(id, headers: moreHeaders, body: more)
            #expect(moreAgain.string("result") == "duplicate")
            #expect(try await env.store.count("SELECT COUNT(*) FROM messages") == 2)
            // Receipts are kept at least seven days, then forgotten. (The running app's own hourly purge may do it
            // first when the clock moves: the test counts what is left, not what its own call removed.)
            let receipts = "SELECT COUNT(*) FROM webhook_receipts"
            env.clock.advance(by: 7 * 86400)
            _ = try await env.runtime.integrations.purgeReceipts(olderThan: 7 * 86400)
            #expect(try await env.store.count(receipts) == 2)
            env.clock.advance(by: 86400 + 1)
            _ = try await env.runtime.integrations.purgeReceipts(olderThan: 7 * 86400)
            #expect(try await env.store.count(receipts) == 0)
        }
    }

    @Test("Every verification failure is the same 401, and nothing is stored", arguments: Backend.available)
    func uniformRejection(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let made = try await env.runtime.integrations.create(NewIntegration(name: "webchat", kind: .standard))
            let id = made.integration.id
            let body = try messageCreated(conversation: "c", text: "Hi")
            let now = env.clock.now()
            let good = try standardHeaders(id: "wh-1", body: body, secrets: [made.secret], at: now)
            let other = "whsec_" + Data(repeating: 7, count: 32).base64EncodedString()
            var missing = good
            missing["webhook-signature"] = nil
            var badTime = good
            badTime["webhook-timestamp"] = "12ab"
            let cases: [(String, [String: String], String)] = [
                ("tampered body", good, body.replacingOccurrences(of: "Hi", with: "Ho")),
                ("tampered signature", try standardHeaders(id: "wh-1", body: body, secrets: [made.secret], at: now, tamper: true), body),
                ("stale", try standardHeaders(id: "wh-1", body: body, secrets: [made.secret], at: now.addingTimeInterval(-301)), body),
                ("future", try standardHeaders(id: "wh-1", body: body, secrets: [made.secret], at: now.addingTimeInterval(301)), body),
                ("wrong secret", try standardHeaders(id: "wh-1", body: body, secrets: [other], at: now), body),
                ("missing header", missing, body),
                ("malformed timestamp", badTime, body),
            ]
            var answers: Set<String> = []
            for (name, headers, sent) in cases {
                let response = try await client.hook(id, headers: headers, body: sent)
                #expect(response.status == 401, "\(name)")
                answers.insert(response.raw)
            }
            let unknown = try await client.hook("int_unknown", headers: good, body: body)
            #expect(unknown.status == 401)
            answers.insert(unknown.raw)
            #expect(answers.count == 1)
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 0)
            #expect(try await env.store.count("SELECT COUNT(*) FROM webhook_receipts") == 0)

            _ = try await env.runtime.integrations.update(id, IntegrationChange(state: .disabled))
            let disabled = try await client.hook(id, headers: good, body: body)
            #expect(disabled.status == 401)
            _ = try await env.runtime.integrations.update(id, IntegrationChange(state: .active))
            _ = try await env.runtime.integrations.update(id, IntegrationChange(inboundEnabled: false))
            #expect(try await client.hook(id, headers: good, body: body).status == 401)
        }
    }

    @Test("1,600 signature entries over a 256 KiB body are the same 401, refused by the entry cap", arguments: Backend.available)
    func signatureFlood(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let made = try await env.runtime.integrations.create(NewIntegration(name: "webchat", kind: .standard))
            let id = made.integration.id
            let body = try messageCreated(conversation: "c", text: String(repeating: "a", count: 250 * 1024))
            var headers = try standardHeaders(id: "wh-flood", body: body, secrets: [made.secret], at: env.clock.now())
            let good = try #require(headers["webhook-signature"])
            let decoy = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
            headers["webhook-signature"] = Array(repeating: decoy, count: 1600).joined(separator: " ")
            let flood = try await client.hook(id, headers: headers, body: body)
            #expect(flood.status == 401)
            // Even with the good entry among them: a sender never needs more than the cap.
            headers["webhook-signature"] = (Array(repeating: decoy, count: 1599) + [good]).joined(separator: " ")
            #expect(try await client.hook(id, headers: headers, body: body).status == 401)
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 0)
            // Up to the cap, decoys do not hide a good entry.
            let small = try messageCreated(conversation: "c", text: "Hello")
            var honest = try standardHeaders(id: "wh-ok", body: small, secrets: [made.secret], at: env.clock.now())
            let signature = try #require(honest["webhook-signature"])
            honest["webhook-signature"] = (Array(repeating: decoy, count: 15) + [signature]).joined(separator: " ")
            #expect(try await client.hook(id, headers: honest, body: small).string("result") == "question_created")
        }
    }

    @Test(
        "A chat message's topic cannot send a fraud report to volunteers; the critical escalation is raised", arguments: Backend.available)
    func statedTopicCannotLowerTier(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let made = try await env.runtime.integrations.create(NewIntegration(name: "webchat", kind: .standard))
            let id = made.integration.id
            let object: [String: Any] = [
                "type": "message.created",
                "data": [
                    "conversation_id": "conv-fraud", "topic": "roaming", "priority": "low",
                    "customer": ["id": "cust-8", "name": "Bea Kunde", "language": "en"],
                    "message": ["id": "ext-1", "text": "Betrug? Rechnung doppelt abgebucht"],
                ] as [String: Any],
            ]
            let body = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            let response = try await client.hook(
                id, headers: try standardHeaders(id: "wh-fraud", body: body, secrets: [made.secret], at: env.clock.now()),
                body: body
            )
            #expect(response.string("result") == "question_created")
            let questionId = try #require(response.string("question_id"))
            let question = try #require(try await env.store.question(id: questionId))
            #expect(question.tier == .staff)
            #expect(question.priority == .critical)
            #expect(question.topic != "roaming")
            #expect(
                try await env.store.count("SELECT COUNT(*) FROM escalations WHERE reason = 'critical_intake'") == 1
            )
        }
    }

    @Test("A verified body that is not a valid message is a 4xx naming the field; over 256 KiB is 413", arguments: Backend.available)
    func badPayloads(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let made = try await env.runtime.integrations.create(NewIntegration(name: "webchat", kind: .standard))
            let id = made.integration.id
            func send(_ body: String, _ webhookId: String) async throws -> APIResponse {
                try await client.hook(
                    id, headers: try standardHeaders(id: webhookId, body: body, secrets: [made.secret], at: env.clock.now()),
                    body: body
                )
            }
            let notJSON = try await send("{nope", "w1")
            #expect(notJSON.status == 400)
            let missing = try await send(
                #"{"type":"message.created","data":{"conversation_id":"c","customer":{"id":"x","name":"y"}}}"#, "w2")
            #expect(missing.status == 400)
            #expect(missing.raw.contains("data.message"))
            let empty = try await send(try messageCreated(conversation: "c", text: "   "), "w3")
            #expect(empty.status == 422)
            let other = try await send(#"{"type":"conversation.closed","data":{}}"#, "w4")
            #expect(other.status == 200)
            #expect(other.string("result") == "ignored")
            let huge = try messageCreated(conversation: "c", text: String(repeating: "a", count: 300 * 1024))
            #expect(try await send(huge, "w5").status == 413)
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 0)
            // A rejected body leaves no receipt: the sender can fix it and send the same id again.
            let fixed = try await send(try messageCreated(conversation: "c", text: "Now with text"), "w3")
            #expect(fixed.string("result") == "question_created")
        }
    }

    @Test("Rotation: the previous secret verifies during the overlap, not after; revoking ends it at once", arguments: Backend.available)
    func rotationOverlap(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let made = try await env.runtime.integrations.create(NewIntegration(name: "webchat", kind: .standard))
            let id = made.integration.id
            let rotated = try await env.runtime.integrations.rotateSecret(id, overlap: 3600)
            #expect(rotated.secret != made.secret)
            func send(_ secret: String, _ webhookId: String) async throws -> Int {
                let body = try messageCreated(conversation: webhookId, text: "Hi")
                return try await client.hook(
                    id, headers: try standardHeaders(id: webhookId, body: body, secrets: [secret], at: env.clock.now()),
                    body: body
                ).status
            }
            #expect(try await send(made.secret, "old-1") == 200)
            #expect(try await send(rotated.secret, "new-1") == 200)
            env.clock.advance(by: 3601)
            #expect(try await send(made.secret, "old-2") == 401)
            #expect(try await send(rotated.secret, "new-2") == 200)

            let third = try await env.runtime.integrations.rotateSecret(id)
            #expect(try await send(rotated.secret, "mid-1") == 200)
            #expect(try await env.runtime.integrations.revokePreviousSecrets(id) == 1)
            #expect(try await send(rotated.secret, "mid-2") == 401)
            #expect(try await send(third.secret, "new-3") == 200)
            let detail = try await env.runtime.integrations.detail(id)
            #expect(detail.audit.map(\.type).contains("secret.rotated"))
            #expect(detail.audit.map(\.type).contains("secret.previous_revoked"))
        }
    }

    @Test(
        "Slack: url_verification is answered with the challenge; messages key on channel and thread; bots are ignored",
        arguments: Backend.available)
    func slack(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let secret = "8f742231b10e8888abcd99yyyzzz85a5"
            let made = try await env.runtime.integrations.create(
                NewIntegration(name: "slack-main", kind: .slack, slackSecret: secret)
            )
            let id = made.integration.id
            func send(_ body: String) async throws -> APIResponse {
                try await client.hook(id, headers: slackHeaders(body: body, secret: secret, at: env.clock.now()), body: body)
            }
            let challenge = try await send(
                #"{"type":"url_verification","token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#)
            #expect(challenge.status == 200)
            #expect(challenge.string("challenge") == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
            let unsigned = try await client.hook(id, headers: [:], body: #"{"type":"url_verification","challenge":"x"}"#)
            #expect(unsigned.status == 401)

            func message(_ eventId: String, text: String, ts: String, thread: String? = nil, extra: String = "") -> String {
                let threadField = thread.map { #","thread_ts":"\#($0)""# } ?? ""
                return
                    #"{"type":"event_callback","event_id":"\#(eventId)","event":{"type":"message","user":"U123","text":"\#(text)","channel":"C42","ts":"\#(ts)"\#(threadField)\#(extra)}}"#
            }
            let first = try await send(message("Ev1", text: "My SIM is blocked", ts: "1790000000.000100"))
            #expect(first.string("result") == "question_created")
            let questionId = try #require(first.string("question_id"))
            let reply = try await send(message("Ev2", text: "PUK does not work", ts: "1790000050.000200", thread: "1790000000.000100"))
            #expect(reply.string("result") == "message_added")
            #expect(reply.string("question_id") == questionId)
            let retried = try await send(message("Ev2", text: "PUK does not work", ts: "1790000050.000200", thread: "1790000000.000100"))
            #expect(retried.string("result") == "duplicate")
            // Paten's own reply, posted back into the thread by a bridge, arrives as a bot message.
            let bot = try await send(
                message("Ev3", text: "We reset it", ts: "1790000060.000300", thread: "1790000000.000100", extra: #","bot_id":"B9""#))
            #expect(bot.string("result") == "ignored")
            let botSubtype = try await send(
                message(
                    "Ev4", text: "We reset it", ts: "1790000061.000300", thread: "1790000000.000100", extra: #","subtype":"bot_message""#))
            #expect(botSubtype.string("result") == "ignored")
            let edited = try await send(message("Ev5", text: "edit", ts: "1790000062.000300", extra: #","subtype":"message_changed""#))
            #expect(edited.string("result") == "ignored")
            #expect(try await env.store.count("SELECT COUNT(*) FROM messages") == 2)
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 1)
            let question = try #require(try await env.store.question(id: questionId))
            #expect(question.customer.id == "U123")
        }
    }

    @Test(
        "A failed change leaves no event and no outbox row: the conversation race rolls back the whole question",
        arguments: Backend.available)
    func outboxIsTransactional(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let made = try await env.runtime.integrations.create(NewIntegration(name: "webchat", kind: .standard))
            let hooks = try await env.runtime.integrations.create(
                NewIntegration(name: "tools", kind: .standard, outboundURL: "http://127.0.0.1:9/hook", allChannels: true)
            )
            _ = hooks
            let account = try await env.runtime.directory.helper(made.integration.id)
            let origin = InboundOrigin(
                integrationId: made.integration.id, webhookId: "w1", conversationId: "conv", externalMessageId: nil, sentAt: nil
            )
            let submission = QuestionSubmission(subject: "Help", body: "Please", customer: Customer(id: "c", name: "C"))
            _ = try await env.desk.submit(submission, by: account, origin: origin)
            let questions = try await env.store.count("SELECT COUNT(*) FROM questions")
            let events = try await env.store.count("SELECT COUNT(*) FROM question_events")
            let outbox = try await env.store.count("SELECT COUNT(*) FROM outbox_messages")
            #expect(outbox == 2)  // created and routed
            var second = origin
            second.webhookId = "w2"
            await #expect(throws: PatenError.self) { try await env.desk.submit(submission, by: account, origin: second) }
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == questions)
            #expect(try await env.store.count("SELECT COUNT(*) FROM question_events") == events)
            #expect(try await env.store.count("SELECT COUNT(*) FROM outbox_messages") == outbox)
            #expect(try await env.store.count("SELECT COUNT(*) FROM webhook_receipts") == 1)
        }
    }
}

@Suite("Inbound webhooks under hostile input")
struct InboundFuzzTests {
    /// A small deterministic generator, so a failure can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("Signed bodies of every wrong shape get a 4xx or a 200, never a 5xx", arguments: Backend.available)
    func signedGarbage(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let made = try await env.runtime.integrations.create(NewIntegration(name: "webchat", kind: .standard))
            let slackSecret = "0123456789abcdef0123456789abcdef"
            let slack = try await env.runtime.integrations.create(
                NewIntegration(name: "slack", kind: .slack, slackSecret: slackSecret)
            )
            var random = SplitMix(state: 20_261_123)
            let values: [String] = [
                "null", "true", "0", "-1", "1e309", "\"\"", "\"x\"", "[]", "{}", "[1,2]", "\"\\u0000\"",
                "\"\(String(repeating: "é", count: 300))\"", "{\"a\":{\"b\":{\"c\":[[[]]]}}}", "\"2026-99-99T00:00:00Z\"",
            ]
            let keys = [
                "type", "data", "conversation_id", "customer", "id", "name", "language", "message", "text", "sent_at",
                "subject", "topic", "priority", "event", "event_id", "challenge", "user", "channel", "ts", "thread_ts",
                "bot_id", "subtype",
            ]
            func object(depth: Int) -> String {
                let count = Int.random(in: 0...5, using: &random)
                let fields = (0..<count).map { _ -> String in
                    let key = keys.randomElement(using: &random) ?? "type"
                    let value =
                        depth < 3 && Bool.random(using: &random)
                        ? object(depth: depth + 1)
                        : key == "type"
                            ? ["\"message.created\"", "\"event_callback\"", "\"url_verification\"", "\"message\""]
                                .randomElement(using: &random) ?? "null"
                            : values.randomElement(using: &random) ?? "null"
                    return "\"\(key)\":\(value)"
                }
                return "{" + fields.joined(separator: ",") + "}"
            }
            var statuses: [Int: Int] = [:]
            for index in 0..<300 {
                var body = object(depth: 0)
                if index % 10 == 0 { body = String(body.dropLast(Int.random(in: 1...3, using: &random))) }
                let standard = try await client.hook(
                    made.integration.id,
                    headers: try standardHeaders(id: "fuzz-\(index)", body: body, secrets: [made.secret], at: env.clock.now()),
                    body: body
                )
                let slackAnswer = try await client.hook(
                    slack.integration.id, headers: slackHeaders(body: body, secret: slackSecret, at: env.clock.now()),
                    body: body
                )
                for response in [standard, slackAnswer] {
                    #expect(response.status < 500, "\(body) -> \(response.status) \(response.raw)")
                    statuses[response.status, default: 0] += 1
                }
            }
            let longId = String(repeating: "x", count: 300)
            let body = try messageCreated(conversation: "c", text: "Hi")
            let tooLong = try await client.hook(
                made.integration.id, headers: try standardHeaders(id: longId, body: body, secrets: [made.secret], at: env.clock.now()),
                body: body
            )
            #expect(tooLong.errorCode == "invalid_webhook_id")
            // The generator reached past the signature check into every kind of answer.
            #expect(statuses[400] ?? 0 > 0)
            #expect(statuses[200] ?? 0 > 0)
        }
    }

    @Test("Unsigned, truncated, oversized bodies and garbled headers get only 401 or 413", arguments: Backend.available)
    func unsignedGarbage(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let made = try await env.runtime.integrations.create(NewIntegration(name: "webchat", kind: .standard))
            let slack = try await env.runtime.integrations.create(
                NewIntegration(name: "slack", kind: .slack, slackSecret: "0123456789abcdef0123456789abcdef")
            )
            var random = SplitMix(state: 7)
            let bodies = [
                "", "{", "null", "[]", String(repeating: "{\"a\":", count: 2000), try messageCreated(conversation: "c", text: "hi"),
                String(repeating: "x", count: 300 * 1024),
            ]
            let headerValues = [
                "", "v1,", "v1,====", "v2,abc", String(repeating: "v1,AAAA ", count: 500), "12345678901234567890",
                "-1", "1e10", "\u{00e9}t\u{00e9}", "v1," + Data(repeating: 1, count: 32).base64EncodedString(),
            ]
            for index in 0..<300 {
                // Every third request goes to the Slack integration, with Slack's header names garbled the same way.
                let toSlack = index % 3 == 2
                let names =
                    toSlack
                    ? ["x-slack-request-timestamp", "x-slack-signature"] : ["webhook-id", "webhook-timestamp", "webhook-signature"]
                var headers: [String: String] = [:]
                for name in names where Bool.random(using: &random) {
                    headers[name] =
                        (toSlack && Bool.random(using: &random) ? "v0=" : "") + (headerValues.randomElement(using: &random) ?? "")
                }
                if index % 3 == 0 { headers["webhook-timestamp"] = String(Int64(env.clock.now().timeIntervalSince1970)) }
                if toSlack && index % 2 == 0 {
                    headers["x-slack-request-timestamp"] = String(Int64(env.clock.now().timeIntervalSince1970))
                }
                var body = bodies.randomElement(using: &random) ?? ""
                if !body.isEmpty && Bool.random(using: &random) {
                    body = String(body.prefix(Int.random(in: 0..<body.count, using: &random)))
                }
                let target = index % 4 == 0 ? "int_nope" : toSlack ? slack.integration.id : made.integration.id
                let response = try await client.hook(target, headers: headers, body: body)
                #expect([401, 413].contains(response.status), "\(headers) \(body.prefix(40)) -> \(response.status)")
            }
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 0)
        }
    }
}
