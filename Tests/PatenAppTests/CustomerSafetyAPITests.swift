import Foundation
import Hummingbird
import HummingbirdTesting
import PatenCore
import PatenTestSupport
import Testing

/// Attacks by a volunteer, or a flood from a chat bridge, on a customer's question: each was possible before the fix.
@Suite("Customer safety over the API")
struct CustomerSafetyAPITests {
    @Test("A volunteer who resolves never sees the customer's rating link; staff get it for API questions", arguments: Backend.available)
    func ratingLinkStaysWithTheCustomer(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("lead", .staff)
            let volunteer = try await env.account("vera", .volunteer)
            let question = try await env.submit("Voicemail PIN", by: staff.helper)
            #expect(try await client.call(.post, "/v1/questions/\(question.id)/claim", token: volunteer.token).status == 200)
            let reply = try await client.call(
                .post, "/v1/questions/\(question.id)/replies", token: volunteer.token, json: ["body": "Dial 3311."]
            )
            #expect(reply.status == 201)
            let resolved = try await client.call(.post, "/v1/questions/\(question.id)/resolve", token: volunteer.token)
            #expect(resolved.status == 200)
            #expect(!resolved.raw.contains("/v1/ratings/"))

            // The volunteer asks for everything: the detail, the list, and the question again.
            let asVolunteer = try await client.call(.get, "/v1/questions/\(question.id)", token: volunteer.token)
            #expect(asVolunteer.status == 200)
            #expect(!asVolunteer.raw.contains("/v1/ratings/"))
            #expect(!asVolunteer.raw.contains("rating_url"))
            let listed = try await client.call(.get, "/v1/questions?state=resolved", token: volunteer.token)
            #expect(!listed.raw.contains("/v1/ratings/"))

            // Staff may pass the link on for a question submitted through the API; it works once.
            let asStaff = try await client.call(.get, "/v1/questions/\(question.id)", token: staff.token)
            let url = try #require(asStaff.string("rating_url"))
            #expect(url.hasPrefix(env.runtime.configuration.externalURL + "/v1/ratings/rt_"))
            // Nothing stores the link: not the timeline, not the ratings table.
            #expect(try await env.store.count("SELECT COUNT(*) FROM question_events WHERE data LIKE '%/v1/ratings/%'") == 0)
            let token = String(try #require(url.split(separator: "/").last))
            #expect(try await env.store.count("SELECT COUNT(*) FROM ratings WHERE token_hash = ?", [token]) == 0)
            let path = String(url.dropFirst(env.runtime.configuration.externalURL.count))
            #expect(try await client.call(.post, path, json: ["score": 5]).status == 201)
            let after = try await client.call(.get, "/v1/questions/\(question.id)", token: staff.token)
            #expect(after.string("rating_url") == nil)
        }
    }

    @Test(
        "A volunteer cannot close an unanswered question; staff can, with a note that volunteers see masked",
        arguments: Backend.available)
    func resolveNeedsAnAnswer(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("lead", .staff)
            let volunteer = try await env.account("vera", .volunteer)
            let question = try await env.submit("Data abroad", by: staff.helper)
            #expect(try await client.call(.post, "/v1/questions/\(question.id)/claim", token: volunteer.token).status == 200)
            let events = try await env.store.count("SELECT COUNT(*) FROM question_events")
            let silent = try await client.call(.post, "/v1/questions/\(question.id)/resolve", token: volunteer.token)
            #expect(silent.status == 409)
            #expect(silent.errorCode == "no_answer_yet")
            #expect(try await env.store.count("SELECT COUNT(*) FROM question_events") == events)
            #expect(try await env.desk.detail(id: question.id, for: staff.helper).question.state == .claimed)

            let bare = try await client.call(.post, "/v1/questions/\(question.id)/resolve", token: staff.token)
            #expect(bare.status == 422)
            #expect(bare.errorCode == "note_required")
            let blank = try await client.call(
                .post, "/v1/questions/\(question.id)/resolve", token: staff.token, json: ["note": "   "]
            )
            #expect(blank.errorCode == "note_required")
            let long = try await client.call(
                .post, "/v1/questions/\(question.id)/resolve", token: staff.token,
                json: ["note": String(repeating: "x", count: 2001)]
            )
            #expect(long.errorCode == "note_too_long")
            // Found by the schema fuzzer: 2,001 characters of which the first is a blank were trimmed to 2,000 and
            // accepted, though the document's maxLength (2,000) counts the text as sent.
            let padded = try await client.call(
                .post, "/v1/questions/\(question.id)/resolve", token: staff.token,
                json: ["note": "\u{00A0}" + String(repeating: "*", count: 2000)]
            )
            #expect(padded.status == 422)
            #expect(padded.errorCode == "note_too_long")
            let noted = try await client.call(
                .post, "/v1/questions/\(question.id)/resolve", token: staff.token,
                json: ["note": "Customer called; sorted on +49 170 1234567"]
            )
            #expect(noted.status == 200)
            let timeline = try await env.desk.detail(id: question.id, for: staff.helper).events
            #expect(timeline.last?.type == .resolved)
            #expect(timeline.last?.data["note"] == "Customer called; sorted on +49 170 1234567")
            let asVolunteer = try await client.call(.get, "/v1/questions/\(question.id)", token: volunteer.token)
            #expect(asVolunteer.status == 200)
            #expect(asVolunteer.raw.contains("Customer called"))
            #expect(!asVolunteer.raw.contains("1234567"))
        }
    }

    @Test("A chat bridge keyed by phone number does not show the number to volunteers", arguments: Backend.available)
    func timelineKeysForVolunteers(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let chat = try await env.runtime.integrations.create(NewIntegration(name: "whatsapp", kind: .standard))
            let bridge = try await env.runtime.directory.helper(chat.integration.id)
            let staff = try await env.account("lead", .staff)
            let volunteer = try await env.account("vera", .volunteer)
            let origin = InboundOrigin(
                integrationId: bridge.id, webhookId: "msg_1", conversationId: "+4917098765432",
                externalMessageId: "wamid.4917098765432", sentAt: nil
            )
            let question = try await env.desk.submit(
                QuestionSubmission(subject: "APN", body: "No data", customer: Customer(id: "c-9", name: "Bo")),
                by: bridge, origin: origin
            )
            #expect(try await client.call(.post, "/v1/questions/\(question.id)/claim", token: volunteer.token).status == 200)
            let asVolunteer = try await client.call(.get, "/v1/questions/\(question.id)", token: volunteer.token)
            #expect(asVolunteer.status == 200)
            #expect(!asVolunteer.raw.contains("98765432"))
            #expect(!asVolunteer.raw.contains("conversation_id"))
            #expect(!asVolunteer.raw.contains("webhook_id"))
            // Staff still see where the conversation came from.
            let asStaff = try await client.call(.get, "/v1/questions/\(question.id)", token: staff.token)
            #expect(asStaff.raw.contains("+4917098765432"))
        }
    }

    @Test("Question detail comes in pages of messages and of events", arguments: Backend.available)
    func detailPages(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let bridge = try await env.account("bridge", .integration)
            let staff = try await env.account("lead", .staff)
            let question = try await env.submit("Long chat", by: bridge.helper)
            for n in 1...24 {
                if n % 2 == 0 {
                    _ = try await env.desk.reply(to: question.id, body: "Answer \(n)", by: staff.helper)
                } else {
                    _ = try await env.desk.addCustomerMessage(to: question.id, body: "Follow-up \(n)", by: bridge.helper)
                }
                env.clock.advance(by: 5)
            }
            var bodies: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let query = "messages_limit=10&timeline_limit=1" + (cursor.map { "&messages_after=\($0)" } ?? "")
                let page = try await client.call(.get, "/v1/questions/\(question.id)?\(query)", token: staff.token)
                #expect(page.status == 200)
                let messages = try #require(page.body["messages"] as? [[String: Any]])
                #expect(messages.count <= 10)
                bodies += messages.compactMap { $0["body"] as? String }
                cursor = page.string("messages_next_cursor")
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(bodies.count == 25)
            #expect(bodies.first == "Please help.")
            #expect(bodies.last == "Answer 24")
            #expect(Set(bodies).count == 25)

            var sequences: [Int64] = []
            var after: String?
            repeat {
                let query = "timeline_limit=7" + (after.map { "&timeline_after=\($0)" } ?? "")
                let page = try await client.call(.get, "/v1/questions/\(question.id)?\(query)", token: staff.token)
                let events = try #require(page.body["timeline"] as? [[String: Any]])
                sequences += events.compactMap { ($0["sequence"] as? NSNumber)?.int64Value }
                after = page.string("timeline_next_cursor")
            } while after != nil && sequences.count < 500
            let stored = try await env.store.count("SELECT COUNT(*) FROM question_events WHERE question_id = ?", [question.id])
            #expect(sequences.count == stored)
            #expect(sequences == sequences.sorted())
            #expect(Set(sequences).count == stored)

            let other = try await env.submit("Other", by: bridge.helper)
            let otherMessage = try await env.desk.detail(id: other.id, for: staff.helper).messages[0].id
            let foreign = try await client.call(
                .get, "/v1/questions/\(question.id)?messages_after=\(otherMessage)", token: staff.token
            )
            #expect((foreign.body["messages"] as? [Any])?.isEmpty == true)
            let tooLong = "messages_after=" + String(repeating: "m", count: 201)
            for bad in ["messages_limit=0", "timeline_limit=501", "messages_limit=x", "timeline_after=-1", "timeline_after=q", tooLong] {
                let refused = try await client.call(.get, "/v1/questions/\(question.id)?\(bad)", token: staff.token)
                #expect(refused.status == 400, "\(bad)")
            }
        }
    }

    @Test("A flood of follow-ups on one conversation is refused with 429 and Retry-After", arguments: Backend.available)
    func followUpFlood(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let bridge = try await env.account("bridge", .integration)
            let question = try await env.submit("Roaming", by: bridge.helper)
            let path = "/v1/questions/\(question.id)/messages"
            // The question's first message counts: it is the customer's too.
            for n in 1..<QuestionRules.followUpsPerMinute {
                let sent = try await client.call(.post, path, token: bridge.token, json: ["body": "Hello? \(n)"])
                #expect(sent.status == 201)
            }
            env.clock.advance(by: 20)
            let flooded = try await client.call(.post, path, token: bridge.token, json: ["body": "One more"])
            #expect(flooded.status == 429)
            #expect(flooded.errorCode == "too_many_messages")
            #expect(flooded.headers[.retryAfter] == "40")
            let stored = try await env.store.count("SELECT COUNT(*) FROM messages WHERE question_id = ?", [question.id])
            #expect(stored == QuestionRules.followUpsPerMinute)
            // Another conversation is not held up, and this one is free again once the minute has passed.
            let other = try await env.submit("Other", by: bridge.helper)
            let elsewhere = try await client.call(
                .post, "/v1/questions/\(other.id)/messages", token: bridge.token, json: ["body": "Hi"]
            )
            #expect(elsewhere.status == 201)
            env.clock.advance(by: 41)
            #expect(try await client.call(.post, path, token: bridge.token, json: ["body": "Later"]).status == 201)
        }
    }

    @Test("A follow-up that names fraud or a critical matter takes the question from volunteers to staff", arguments: Backend.available)
    func followUpReroutes(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let bridge = try await env.account("bridge", .integration)
            let volunteer = try await env.account("vera", .volunteer)
            let staff = try await env.account("lead", .staff)
            let question = try await env.submit("Hallo", body: "Ich habe eine Frage zu meinem Tarif.", by: bridge.helper)
            #expect(question.tier == .volunteer)
            #expect(try await client.call(.post, "/v1/questions/\(question.id)/claim", token: volunteer.token).status == 200)
            let posted = try await client.call(
                .post, "/v1/questions/\(question.id)/messages", token: bridge.token,
                json: ["body": "Jemand hat mein Konto gehackt, das ist Betrug!"]
            )
            #expect(posted.status == 201)
            let detail = try await env.desk.detail(id: question.id, for: staff.helper)
            #expect(detail.question.tier == .staff)
            #expect(detail.question.holderId == nil)
            let routed = detail.events.last { $0.type == .routed }
            #expect(routed?.data["reason"] == "critical_follow_up" || routed?.data["reason"] == "staff_only_follow_up")
            #expect(try await client.call(.get, "/v1/questions/\(question.id)", token: volunteer.token).status == 403)
            if detail.question.priority == .critical {
                let escalations = try await env.runtime.escalations.list(EscalationFilter(questionId: question.id), for: staff.helper)
                #expect(escalations.map(\.reason) == [.criticalIntake])
            }
            // An ordinary follow-up on another question changes nothing.
            let calm = try await env.submit("Roaming", body: "No data in Spain.", by: bridge.helper)
            _ = try await env.desk.addCustomerMessage(to: calm.id, body: "Thanks, it works now!", by: bridge.helper)
            #expect(try await env.desk.detail(id: calm.id, for: staff.helper).question.tier == .volunteer)
        }
    }

    @Test("A volunteer cannot close a question whose latest customer message has no reply", arguments: Backend.available)
    func followUpNeedsAnAnswer(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let bridge = try await env.account("bridge", .integration)
            let volunteer = try await env.account("vera", .volunteer)
            let question = try await env.submit("Roaming", body: "No data in Spain.", by: bridge.helper)
            let path = "/v1/questions/\(question.id)"
            #expect(try await client.call(.post, path + "/claim", token: volunteer.token).status == 200)
            #expect(
                try await client.call(.post, path + "/replies", token: volunteer.token, json: ["body": "Enable roaming."]).status == 201)
            _ = try await env.desk.addCustomerMessage(to: question.id, body: "Still nothing.", by: bridge.helper)
            let refused = try await client.call(.post, path + "/resolve", token: volunteer.token)
            #expect(refused.errorCode == "no_answer_yet")
            #expect(try await client.call(.post, path + "/replies", token: volunteer.token, json: ["body": "Restart it."]).status == 201)
            #expect(try await client.call(.post, path + "/resolve", token: volunteer.token).status == 200)
        }
    }

    @Test("A follow-up that reopens an answered volunteer question moves to staff when nobody answers it", arguments: Backend.available)
    func reopenedFollowUpEscalates(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let bridge = try await env.account("bridge", .integration)
            let volunteer = try await env.account("vera", .volunteer)
            let staff = try await env.account("lead", .staff)
            let question = try await env.submit("Roaming", body: "No data in Spain.", by: bridge.helper)
            _ = try await env.desk.claim(question.id, by: volunteer.helper)
            _ = try await env.desk.reply(to: question.id, body: "Enable roaming.", by: volunteer.helper)
            _ = try await env.desk.resolve(question.id, by: volunteer.helper)
            env.clock.advance(by: 600)
            let (reopened, _) = try await env.desk.addCustomerMessage(to: question.id, body: "Still no data.", by: bridge.helper)
            #expect(reopened.state == .open)
            let deadline = try #require(reopened.peerDeadlineAt)
            #expect(deadline > env.clock.now())
            env.clock.advance(by: deadline.timeIntervalSince(env.clock.now()) - 1)
            #expect(try await env.desk.sweep().movedToStaff == 0)
            env.clock.advance(by: 2)
            #expect(try await env.desk.sweep().movedToStaff == 1)
            #expect(try await env.desk.detail(id: question.id, for: staff.helper).question.tier == .staff)
            let escalations = try await env.runtime.escalations.list(EscalationFilter(questionId: question.id), for: staff.helper)
            // (A probation review came with the volunteer's first accepted answer.)
            #expect(escalations.map(\.reason).filter { $0 != .probationReview } == [.peerWindowExpired])
            _ = client
        }
    }
}
