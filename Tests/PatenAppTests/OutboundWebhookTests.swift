import Foundation
import GRDB
import PatenApp
import PatenCore
import PatenPostgres
import PatenTestSupport
import Testing

@testable import PatenWebhooks

@Suite("Outbound webhooks")
struct OutboundWebhookTests {
    /// An integration sending every event about every question to the receiver.
    static func subscriber(_ env: TestEnvironment, url: String) async throws -> IntegrationWithSecret {
        try await env.runtime.integrations.create(
            NewIntegration(name: "bridge", kind: .standard, inboundEnabled: false, outboundURL: url, allChannels: true)
        )
    }

    /// An integration sending only `question.created` about every question to the receiver.
    static func createdEventsOnly(_ env: TestEnvironment, url: String) async throws {
        _ = try await env.runtime.integrations.create(
            NewIntegration(name: "bridge", kind: .standard, outboundURL: url, events: [.questionCreated], allChannels: true)
        )
    }

    @Test(
        "A volunteer's reply goes out signed, with the text and the conversation, verifiable with the secret", arguments: Backend.available)
    func replyGoesOut(backend: Backend) async throws {
        try await withReceiver { hooks, url in
            try await withTestEnvironment(backend: backend) { env in
                let bridge = try await Self.subscriber(env, url: url)
                let chat = try await env.runtime.integrations.create(NewIntegration(name: "webchat", kind: .standard))
                let account = try await env.runtime.directory.helper(chat.integration.id)
                let origin = InboundOrigin(
                    integrationId: chat.integration.id, webhookId: "w1", conversationId: "conv-77",
                    externalMessageId: nil, sentAt: nil
                )
                let question = try await env.desk.submit(
                    QuestionSubmission(subject: "eSIM", body: "Help", customer: Customer(id: "c", name: "Cy")), by: account,
                    origin: origin
                )
                let (volunteer, _) = try await env.account("vera", .volunteer)
                _ = try await env.desk.claim(question.id, by: volunteer)
                _ = try await env.desk.reply(to: question.id, body: "Restart the phone, then scan again.", by: volunteer)
                try await withDeliverer(env) { deliverer in
                    #expect(await deliverer.deliverDue() == 4)
                }
                let hits = await hooks.hits
                #expect(
                    hits.map { $0.json["type"] as? String }
                        == [
                            "question.created", "question.routed", "question.claimed", "question.replied",
                        ].map(Optional.some))
                let reply = try #require(hits.last)
                let data = try #require(reply.json["data"] as? [String: Any])
                #expect(data["conversation_id"] as? String == "conv-77")
                #expect(data["channel"] as? String == chat.integration.id)
                #expect((data["message"] as? [String: Any])?["text"] as? String == "Restart the phone, then scan again.")
                #expect((data["actor"] as? [String: Any])?["handle"] as? String == "vera")
                try StandardWebhookSignature.verify(
                    id: reply.id, timestamp: reply.timestamp, signature: reply.signature, body: reply.body,
                    secrets: [try WebhookSecret(bridge.secret)], now: env.clock.now()
                )
                #expect(reply.id.hasPrefix("msg_"))
                let log = try await env.runtime.integrations.deliveries("bridge")
                #expect(log.allSatisfy { $0.message.state == .delivered && $0.attempts.count == 1 })
            }
        }
    }

    @Test(
        "Retries follow the schedule with ±20 % jitter, keep the id, and dead-letter after the last attempt", arguments: Backend.available)
    func retryScheduleAndDeadLetter(backend: Backend) async throws {
        try await withReceiver { hooks, url in
            await hooks.answer([], then: 500)
            try await withTestEnvironment(backend: backend) { env in
                try await Self.createdEventsOnly(env, url: url)
                let (staff, _) = try await env.account("sam", .staff)
                _ = try await env.submit("Where is my bill?", by: staff)
                try await withDeliverer(env) { deliverer in
                    let schedule = RetrySchedule.standard
                    for (index, delay) in schedule.delays.enumerated() {
                        let before = env.clock.now()
                        #expect(await deliverer.deliverDue() == 1, "attempt \(index + 1)")
                        let record = try #require(try await env.runtime.integrations.deliveries("bridge").first)
                        let wait = try #require(record.message.nextAttemptAt).timeIntervalSince(before)
                        #expect(wait >= delay * 0.8 - 0.001 && wait <= delay * 1.2 + 0.001, "wait \(wait) after attempt \(index + 1)")
                        // Nothing is sent before the wait is over.
                        env.clock.advance(by: wait - 1)
                        #expect(await deliverer.deliverDue() == 0)
                        env.clock.advance(by: 1)
                    }
                    #expect(await deliverer.deliverDue() == 1)
                    #expect(await deliverer.deliverDue() == 0)
                }
                let record = try #require(try await env.runtime.integrations.deliveries("bridge", state: .dead).first)
                #expect(record.attempts.count == 8)
                #expect(record.attempts.allSatisfy { $0.statusCode == 500 && $0.outcome == .failed })
                let hits = await hooks.hits
                #expect(hits.count == 8)
                #expect(Set(hits.map(\.id)) == [record.message.id])
                #expect(Set(hits.map(\.timestamp)).count == 8)
            }
        }
    }

    @Test("A receiver that is down for a while, then back, gets every message, each with one stable id", arguments: Backend.available)
    func outageLosesNothing(backend: Backend) async throws {
        try await withReceiver { hooks, url in
            await hooks.answer(Array(repeating: 503, count: 6))
            try await withTestEnvironment(backend: backend) { env in
                try await Self.createdEventsOnly(env, url: url)
                let (staff, _) = try await env.account("sam", .staff)
                for number in 1...3 { _ = try await env.submit("Question \(number)", by: staff) }
                try await withDeliverer(env) { deliverer in
                    // Past the longest wait (10 h + 20 %) each time, so every pass finds the first message due.
                    for _ in 0..<7 {
                        await deliverer.deliverDue()
                        env.clock.advance(by: 13 * 3600)
                    }
                }
                let delivered = await hooks.delivered
                #expect(delivered.count == 3)
                #expect(Set(delivered.map(\.id)).count == 3)
                let hits = await hooks.hits
                // While the receiver was down only the endpoint's first message was tried; the others waited.
                #expect(Set(hits.filter { $0.answered == 503 }.map(\.id)).count == 1)
                for hit in delivered {
                    // Every attempt for the message carried the same id and the same body.
                    #expect(Set(hits.filter { $0.id == hit.id }.map(\.body)).count == 1)
                }
                let subjects = delivered.compactMap { ($0.json["data"] as? [String: Any])?["subject"] as? String }
                #expect(Set(subjects) == ["Question 1", "Question 2", "Question 3"])
            }
        }
    }

    @Test(
        "Retry-After is honoured; 410 dead-letters the message and disables the endpoint until enabled again", arguments: Backend.available)
    func retryAfterAndGone(backend: Backend) async throws {
        try await withReceiver { hooks, url in
            await hooks.answer([429], retryAfter: "120")
            try await withTestEnvironment(backend: backend) { env in
                try await Self.createdEventsOnly(env, url: url)
                let (staff, _) = try await env.account("sam", .staff)
                _ = try await env.submit("First", by: staff)
                try await withDeliverer(env) { deliverer in
                    let before = env.clock.now()
                    await deliverer.deliverDue()
                    let record = try #require(try await env.runtime.integrations.deliveries("bridge").first)
                    #expect(record.message.nextAttemptAt == before.addingTimeInterval(120))

                    await hooks.answer([410])
                    env.clock.advance(by: 120)
                    await deliverer.deliverDue()
                    let gone = try await env.runtime.integrations.integration("bridge")
                    #expect(gone.outboundDisabledAt != nil)
                    #expect(gone.outboundDisabledReason?.contains("410") == true)
                    #expect(try await env.runtime.integrations.deliveries("bridge", state: .dead).count == 1)

                    // While disabled, new events wait instead of being sent or lost.
                    await hooks.answer([])
                    _ = try await env.submit("Second", by: staff)
                    env.clock.advance(by: 60)
                    #expect(await deliverer.deliverDue() == 0)
                    await #expect(throws: PatenError.self) {
                        _ = try await env.runtime.integrations.redeliver("bridge", since: before)
                    }
                    _ = try await env.runtime.integrations.update("bridge", IntegrationChange(outboundEnabled: true))
                    #expect(await deliverer.deliverDue() == 1)
                    let audit = try await env.runtime.integrations.detail("bridge").audit.map(\.type)
                    #expect(audit.contains("endpoint.disabled") && audit.contains("endpoint.enabled"))
                }
                let subjects = await hooks.delivered.compactMap { ($0.json["data"] as? [String: Any])?["subject"] as? String }
                #expect(subjects == ["Second"])
            }
        }
    }

    @Test("Redelivery sends a delivered or dead message again with the same id, one or all since a time", arguments: Backend.available)
    func redelivery(backend: Backend) async throws {
        try await withReceiver { hooks, url in
            try await withTestEnvironment(backend: backend) { env in
                try await Self.createdEventsOnly(env, url: url)
                let (staff, _) = try await env.account("sam", .staff)
                let start = env.clock.now()
                _ = try await env.submit("One", by: staff)
                env.clock.advance(by: 10)
                _ = try await env.submit("Two", by: staff)
                try await withDeliverer(env) { deliverer in
                    #expect(await deliverer.deliverDue() == 2)
                    let first = try #require(try await env.runtime.integrations.deliveries("bridge").last)
                    _ = try await env.runtime.integrations.redeliver(first.message.id)
                    #expect(await deliverer.deliverDue() == 1)
                    let again = try await env.runtime.integrations.delivery(first.message.id)
                    #expect(again.attempts.map(\.attempt) == [1, 2])
                    #expect(again.message.state == .delivered)
                    #expect(try await env.runtime.integrations.redeliver("bridge", since: start.addingTimeInterval(5)) == 1)
                    #expect(try await env.runtime.integrations.redeliver("bridge", since: start) == 1)
                    #expect(await deliverer.deliverDue() == 2)
                }
                let ids = await hooks.hits.map(\.id)
                #expect(ids.count == 5)
                #expect(Set(ids).count == 2)
            }
        }
    }

    @Test("After a 410 the endpoint's other claimed messages are not sent; they wait for it to be enabled", arguments: Backend.available)
    func goneStopsTheQueue(backend: Backend) async throws {
        try await withReceiver { hooks, url in
            await hooks.answer([410])
            try await withTestEnvironment(backend: backend) { env in
                try await Self.createdEventsOnly(env, url: url)
                let (staff, _) = try await env.account("sam", .staff)
                for number in 1...3 { _ = try await env.submit("Question \(number)", by: staff) }
                try await withDeliverer(env) { deliverer in
                    #expect(await deliverer.deliverDue() == 3)
                    #expect(await hooks.hits.count == 1)
                    let waiting = try await env.runtime.integrations.deliveries("bridge", state: .pending)
                    #expect(waiting.count == 2)
                    #expect(waiting.allSatisfy { $0.message.nextAttemptAt == nil && $0.attempts.isEmpty })
                    _ = try await env.runtime.integrations.update("bridge", IntegrationChange(outboundEnabled: true))
                    #expect(await deliverer.deliverDue() == 2)
                }
                #expect(await hooks.delivered.count == 2)
            }
        }
    }

    @Test("Only the claim's holder records a result; a message in flight cannot be redelivered", arguments: Backend.available)
    func claimsGuardResults(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            _ = try await env.runtime.integrations.create(
                NewIntegration(
                    name: "bridge", kind: .standard, outboundURL: "http://127.0.0.1:9/hook", events: [.questionCreated],
                    allChannels: true
                )
            )
            let (staff, _) = try await env.account("sam", .staff)
            _ = try await env.submit("Hello", by: staff)
            let first = try #require(
                try await env.store.claimDueMessages(at: env.clock.now(), lease: 60, limit: 10, excluding: []).first
            )
            // Claimed and leased: nobody else takes it, and it cannot be redelivered meanwhile.
            #expect(try await env.store.claimDueMessages(at: env.clock.now(), lease: 60, limit: 10, excluding: []).isEmpty)
            let inFlight = await #expect(throws: PatenError.self) {
                _ = try await env.runtime.integrations.redeliver(first.message.id)
            }
            #expect(inFlight?.code == "delivery_in_flight")
            // The first deliverer stalls past its lease; a second one claims the message.
            env.clock.advance(by: 61)
            let second = try #require(
                try await env.store.claimDueMessages(at: env.clock.now(), lease: 60, limit: 10, excluding: []).first
            )
            #expect(second.claimToken != first.claimToken)
            #expect(try await env.store.renewClaims([first.claimToken, second.claimToken], until: env.clock.now()) == [second.claimToken])
            let late = AttemptReport(
                messageId: first.message.id, integrationId: first.message.integrationId, claimToken: first.claimToken,
                attempt: DeliveryAttempt(
                    attempt: 0, at: env.clock.now(), outcome: .delivered, statusCode: 204, latencyMs: 70_000, error: nil),
                disposition: .delivered, failingLimit: 5 * 86400
            )
            _ = try await env.store.finishAttempt(late)
            var record = try await env.runtime.integrations.delivery(first.message.id)
            #expect(record.message.state == .pending)
            #expect(record.attempts.count == 1)  // logged, not counted
            var current = late
            current.claimToken = second.claimToken
            current.disposition = .deadLetter
            _ = try await env.store.finishAttempt(current)
            record = try await env.runtime.integrations.delivery(first.message.id)
            #expect(record.message.state == .dead)
            #expect(record.attempts.count == 2)
            // Excluded endpoints (busy in this process) are not claimed.
            _ = try await env.runtime.integrations.redeliver(first.message.id)
            #expect(
                try await env.store.claimDueMessages(
                    at: env.clock.now(), lease: 60, limit: 10, excluding: [first.message.integrationId]
                ).isEmpty
            )
            // A claim whose holder died (the lease ran out, the token stayed) does not block a redelivery.
            _ = try await env.store.claimDueMessages(at: env.clock.now(), lease: 60, limit: 10, excluding: [])
            env.clock.advance(by: 61)
            #expect(try await env.runtime.integrations.redeliver(first.message.id).state == .pending)
        }
    }

    @Test("The rating link goes only to the integration the customer wrote through", arguments: Backend.available)
    func ratingLinkStaysWithTheCustomer(backend: Backend) async throws {
        try await withReceiver { hooks, url in
            try await withTestEnvironment(backend: backend) { env in
                let chat = try await env.runtime.integrations.create(
                    NewIntegration(name: "webchat", kind: .standard, outboundURL: url, events: [.questionResolved])
                )
                _ = try await env.runtime.integrations.create(
                    NewIntegration(
                        name: "tools", kind: .standard, inboundEnabled: false, outboundURL: url,
                        events: [.questionResolved], allChannels: true
                    )
                )
                let account = try await env.runtime.directory.helper(chat.integration.id)
                let question = try await env.desk.submit(
                    QuestionSubmission(subject: "Bill", body: "Too high", customer: Customer(id: "c", name: "C")), by: account
                )
                let (staff, _) = try await env.account("sam", .staff)
                _ = try await env.desk.reply(to: question.id, body: "Fixed it.", by: staff)
                _ = try await env.desk.resolve(question.id, by: staff)
                try await withDeliverer(env) { deliverer in #expect(await deliverer.deliverDue() == 2) }
                let links = await hooks.hits.map { ($0.json["data"] as? [String: Any])?["rating_url"] as? String }
                #expect(links.compactMap { $0 }.count == 1)
                // The outbox keeps a placeholder, not the link; the link the customer got rates the question, and
                // the integration's own GET gives the same link while it is unused (the other integration gets none).
                let link = try #require(links.compactMap { $0 }.first)
                #expect(try await env.store.count("SELECT COUNT(*) FROM outbox_messages") == 2)
                let text = env.backend == .sqlite ? "CAST(payload AS TEXT)" : "convert_from(payload, 'UTF8')"
                for (pattern, count) in [("%paten:rating-link:%", 1), ("%/v1/ratings/%", 0)] {
                    let stored = try await env.store.count(
                        "SELECT COUNT(*) FROM outbox_messages WHERE \(text) LIKE ?", [pattern]
                    )
                    #expect(stored == count, "\(pattern)")
                }
                #expect(try await env.desk.detail(id: question.id, for: account).ratingUrl == link)
                let tools = try await env.runtime.directory.helper(try await env.runtime.integrations.integration("tools").id)
                await #expect(throws: PatenError.self) { _ = try await env.desk.detail(id: question.id, for: tools) }
                let token = String(try #require(link.split(separator: "/").last))
                #expect(try await env.desk.rate(token: token, score: 4, comment: nil).questionId == question.id)
                #expect(try await env.desk.detail(id: question.id, for: account).ratingUrl == nil)
            }
        }
    }

    @Test(
        "A message queued with a real rating link before 0007 still brings it, and keeps it no longer once delivered or dead",
        arguments: Backend.available)
    func legacyRatingLinkDroppedAfterSending(backend: Backend) async throws {
        try await withReceiver { hooks, url in
            try await withTestEnvironment(backend: backend) { env in
                let chat = try await env.runtime.integrations.create(
                    NewIntegration(name: "webchat", kind: .standard, outboundURL: url, events: [.questionResolved])
                )
                let (staff, _) = try await env.account("sam", .staff)
                let question = try await env.submit("Old question", by: staff)
                let text = backend == .sqlite ? "CAST(payload AS TEXT)" : "convert_from(payload, 'UTF8')"
                func stored(_ id: String, _ fragment: String) async throws -> Bool {
                    let sql = "SELECT COUNT(*) FROM outbox_messages WHERE id = ? AND \(text) LIKE ?"
                    return try await env.store.count(sql, [id, "%\(fragment)%"]) == 1
                }
                // Delivered, then (the receiver gone) dead: both ends of a message's life drop the link.
                for (id, status) in [("msg_legacy_sent", 200), ("msg_legacy_dead", 410)] {
                    try await Self.insertLegacyMessage(env, id: id, integrationId: chat.integration.id, question: question.id)
                    #expect(try await stored(id, "rt_legacy_\(id)"))
                    await hooks.answer([status])
                    try await withDeliverer(env) { deliverer in #expect(await deliverer.deliverDue() == 1) }
                    let link = await hooks.hits.last.flatMap { ($0.json["data"] as? [String: Any])?["rating_url"] as? String }
                    #expect(link == "https://p.example/v1/ratings/rt_legacy_\(id)")
                    #expect(try await stored(id, "rt_legacy") == false)
                    #expect(try await stored(id, "rating_url") == false)
                    #expect(try await stored(id, question.id), "the rest of the payload stays")
                }
                #expect(try await env.runtime.integrations.messageCounts() == [.pending: 0, .delivered: 1, .dead: 1])
            }
        }
    }

    /// Writes a pending `question.resolved` message as releases before migration 0007 did: with the real rating link
    /// in the stored payload.
    static func insertLegacyMessage(
        _ env: TestEnvironment, id: String, integrationId: String, question: String
    ) async throws {
        let payload = #"""
            {"type":"question.resolved","data":{"question_id":"\#(question)","rating_url":"https://p.example/v1/ratings/rt_legacy_\#(id)"}}
            """#
        let now = env.clock.now().millisecondsSince1970
        let bytes = env.backend == .sqlite ? "CAST('\(payload)' AS BLOB)" : "convert_to('\(payload)', 'UTF8')"
        let insert = """
            INSERT INTO outbox_messages (id, integration_id, event_type, question_id, payload, created_at, state,
            next_attempt_at) VALUES ('\(id)', '\(integrationId)', 'question.resolved', '\(question)', \(bytes), \(now),
            'pending', \(now))
            """
        switch env.backend {
        case .sqlite:
            let queue = try DatabaseQueue(path: env.runtime.configuration.databasePath)
            try await queue.write { db in try db.execute(sql: insert) }
        case .postgres:
            try await execute(insert, on: try DatabaseURL(try #require(env.runtime.configuration.databaseURL)))
        }
    }

    @Test("Delivered messages are kept 30 days and dead letters 90, then purged with their attempts", arguments: Backend.available)
    func retention(backend: Backend) async throws {
        try await withReceiver { hooks, url in
            try await withTestEnvironment(backend: backend) { env in
                try await Self.createdEventsOnly(env, url: url)
                let (staff, _) = try await env.account("sam", .staff)
                _ = try await env.submit("Delivered", by: staff)
                try await withDeliverer(env) { deliverer in await deliverer.deliverDue() }
                await hooks.answer([410])
                _ = try await env.submit("Dead", by: staff)
                try await withDeliverer(env) { deliverer in await deliverer.deliverDue() }
                #expect(try await env.runtime.integrations.messageCounts() == [.pending: 0, .delivered: 1, .dead: 1])
                env.clock.advance(by: 30 * 86400 + 1)
                #expect(try await env.runtime.integrations.purgeOldMessages() == 1)
                env.clock.advance(by: 60 * 86400)
                #expect(try await env.runtime.integrations.purgeOldMessages() == 1)
                #expect(try await env.store.count("SELECT COUNT(*) FROM delivery_attempts") == 0)
            }
        }
    }

    @Test("During a rotation overlap deliveries carry two signatures, each verifying with its own secret", arguments: Backend.available)
    func rotationSignsWithBoth(backend: Backend) async throws {
        try await withReceiver { hooks, url in
            try await withTestEnvironment(backend: backend) { env in
                let made = try await Self.subscriber(env, url: url)
                let rotated = try await env.runtime.integrations.rotateSecret("bridge")
                let (staff, _) = try await env.account("sam", .staff)
                _ = try await env.submit("Hello", by: staff)
                try await withDeliverer(env) { deliverer in await deliverer.deliverDue() }
                let hit = try #require(await hooks.hits.first)
                #expect(hit.signature.split(separator: " ").count == 2)
                for secret in [made.secret, rotated.secret] {
                    try StandardWebhookSignature.verify(
                        id: hit.id, timestamp: hit.timestamp, signature: hit.signature, body: hit.body,
                        secrets: [try WebhookSecret(secret)], now: env.clock.now()
                    )
                }
            }
        }
    }

    @Test("An endpoint failing for five days is disabled and the admin trail says so", arguments: Backend.available)
    func failingEndpointDisabled(backend: Backend) async throws {
        try await withReceiver { hooks, url in
            await hooks.answer([], then: 500)
            try await withTestEnvironment(backend: backend) { env in
                try await Self.createdEventsOnly(env, url: url)
                let (staff, _) = try await env.account("sam", .staff)
                try await withDeliverer(env) { deliverer in
                    for day in 0...5 {
                        _ = try await env.submit("Day \(day)", by: staff)
                        await deliverer.deliverDue()
                        #expect(
                            try await env.runtime.integrations.integration("bridge").outboundDisabledAt == nil || day == 5
                        )
                        env.clock.advance(by: 86400)
                    }
                }
                let bridge = try await env.runtime.integrations.integration("bridge")
                #expect(bridge.outboundDisabledAt != nil)
                #expect(bridge.outboundDisabledReason?.contains("5 days") == true)
                #expect(try await env.runtime.integrations.detail("bridge").audit.first?.type == "endpoint.disabled")
            }
        }
    }

    @Test("Private, loopback and link-local destinations are refused unless allowed", arguments: Backend.available)
    func ssrfRefusal(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend, configure: { $0.webhookAllowLoopback = false }) {
            (env: TestEnvironment) async throws in
            for url in [
                "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook", "http://192.168.0.5/",
                "http://169.254.169.254/latest/meta-data", "http://[::1]:8080/", "http://[fd00::1]/", "http://0.0.0.0/",
                "http://[::ffff:127.0.0.1]/",
            ] {
                // Refused for the address, not for some other fault in the URL.
                let error = await #expect(throws: PatenError.self, "\(url)") {
                    _ = try await env.runtime.integrations.create(
                        NewIntegration(name: "bridge", kind: .standard, outboundURL: url)
                    )
                }
                #expect(error?.code == "destination_not_allowed", "\(url): \(error?.message ?? "")")
            }
            let refused = await #expect(throws: PatenError.self) {
                _ = try await env.runtime.integrations.create(
                    NewIntegration(name: "bridge", kind: .standard, outboundURL: "http://127.0.0.1/hook")
                )
            }
            #expect(refused?.code == "destination_not_allowed")
            #expect(try await env.store.count("SELECT COUNT(*) FROM integrations") == 0)
            #expect(try await env.store.count("SELECT COUNT(*) FROM helpers WHERE role = 'integration'") == 0)
        }
        let allowPrivate = NetworkDestinationGuard(allowLoopback: false, allowPrivate: true)
        try await allowPrivate.check("http://10.0.0.7/hook")
        await #expect(throws: PatenError.self) { try await allowPrivate.check("http://169.254.169.254/") }
        #expect(NetworkDestinationGuard.classify([93, 184, 216, 34]) == .global)
        #expect(NetworkDestinationGuard.classify([100, 64, 0, 1]) == .private)
        #expect(NetworkDestinationGuard.classify([172, 31, 255, 255]) == .private)
        #expect(NetworkDestinationGuard.classify([172, 32, 0, 1]) == .global)
        #expect(NetworkDestinationGuard.classify([192, 0, 0, 8]) == .special)
        for text in [
            "::127.0.0.1", "::ffff:0:127.0.0.1", "2002:7f00:1::", "2001:0:4136:e378::1", "fec0::1", "64:ff9b:1::1",
            "64:ff9b::a9fe:a9fe", "64:ff9b::1:0:0:a9fe:a9fe", "fe80::1", "ff02::1", "100::1", "2001:2::1", "2001:10::1",
        ] {
            let address = try #require(NetworkDestinationGuard.parseIPv6(text))
            #expect(NetworkDestinationGuard.classify(address) != .global, "\(text)")
        }
        #expect(NetworkDestinationGuard.classify(try #require(NetworkDestinationGuard.parseIPv6("2606:4700::1111"))) == .global)
        #expect(NetworkDestinationGuard.classify(try #require(NetworkDestinationGuard.parseIPv6("64:ff9b::808:808"))) == .global)
    }

    @Test("A destination that became private is refused at delivery time and logged as refused", arguments: Backend.available)
    func refusedAtDelivery(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            _ = try await env.runtime.integrations.create(
                NewIntegration(name: "bridge", kind: .standard, outboundURL: "http://127.0.0.1:9/hook", allChannels: true)
            )
            let (staff, _) = try await env.account("sam", .staff)
            _ = try await env.submit("Hello", by: staff)
            let client = WebhookDeliverer.makeClient()
            let strict = WebhookDeliverer(
                outbox: env.store, integrations: env.runtime.integrations, client: client,
                destinations: NetworkDestinationGuard(allowLoopback: false, allowPrivate: false), clock: env.clock,
                ratingLinks: env.runtime.desk.ratingLinks, logger: .init(label: "test")
            )
            await strict.deliverDue()
            try await client.shutdown()
            let records = try await env.runtime.integrations.deliveries("bridge")
            // The first message was refused; the endpoint's other message waits for the same retry time.
            #expect(records.flatMap(\.attempts).map(\.outcome) == [.refused])
            #expect(records.allSatisfy { $0.message.state == .pending && $0.message.nextAttemptAt != nil })
        }
    }

    // The key file belongs to the embedded setup; on PostgreSQL the key is given (DatabaseChoiceTests).
    @Test("Secrets are sealed at rest, and the key file is created once with mode 0600")
    func secretsAtRest() async throws {
        try await withTestEnvironment { env in
            let made = try await env.runtime.integrations.create(NewIntegration(name: "webchat", kind: .standard))
            let stored = try await env.store.activeSecrets(integrationId: made.integration.id, at: env.clock.now())
            #expect(stored.count == 1)
            #expect(Data(stored[0].sealed).range(of: Data(made.secret.utf8)) == nil)
            #expect(Data(stored[0].sealed).range(of: Data(made.secret.dropFirst(6).utf8)) == nil)
            let keyPath = env.runtime.configuration.secretsKeyPath
            let mode = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600)
            let key = try SecretBox.loadOrCreateKey(at: keyPath)
            #expect(key.count == 32)
            let credentials = try #require(try await env.runtime.integrations.inboundCredentials(made.integration.id))
            #expect(credentials.secrets == [made.secret])
            // Another key does not open them.
            let other = try SecretBox(keyBytes: [UInt8](repeating: 1, count: 32))
            #expect(throws: PatenError.self) { try other.open(stored[0].sealed, context: made.integration.id) }
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyPath)
            #expect(throws: PatenError.self) { try SecretBox.loadOrCreateKey(at: keyPath) }
        }
    }
}
