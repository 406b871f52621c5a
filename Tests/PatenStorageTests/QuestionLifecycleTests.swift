import Foundation
import PatenCore
import PatenStorage
import PatenTestSupport
import Testing

@Suite("Question lifecycle and timeline")
struct QuestionLifecycleTests {
    @Test(
        "Submit, claim, reply, resolve and reopen each leave one event, in order, with the first response kept",
        arguments: Backend.available)
    func timeline(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("staff1", .staff).helper
            let volunteer = try await env.account("vol", .volunteer).helper
            let question = try await env.submit("eSIM activation", by: staff)
            _ = try await env.desk.claim(question.id, by: volunteer)
            env.clock.advance(by: 90)
            let (afterFirst, _) = try await env.desk.reply(to: question.id, body: "Scan the QR code", by: volunteer)
            let firstResponse = try #require(afterFirst.firstResponseAt)
            env.clock.advance(by: 30)
            _ = try await env.desk.reply(to: question.id, body: "Then restart", by: volunteer)
            _ = try await env.desk.resolve(question.id, by: volunteer)
            _ = try await env.desk.reopen(question.id, by: staff)

            let detail = try await env.desk.detail(id: question.id, for: staff)
            #expect(
                detail.events.map(\.type) == [
                    // The volunteer's first accepted answer: a probation review for staff and the first badge.
                    .created, .routed, .claimed, .replied, .replied, .resolved, .escalated, .badgeAwarded, .reopened,
                ]
            )
            #expect(detail.question.firstResponseAt == firstResponse)
            #expect(firstResponse == question.createdAt.addingTimeInterval(90))
            #expect(detail.events[3].data["first_response"] == "true")
            #expect(detail.events[4].data["first_response"] == "false")
            #expect(detail.messages.map(\.authorKind) == [.customer, .helper, .helper])
            #expect(detail.question.state == .open)
            #expect(detail.handles[volunteer.id] == "vol")
            #expect(
                try await env.store.count("SELECT COUNT(*) FROM claims WHERE end_reason = 'resolved'") == 1
            )
        }
    }

    @Test("A refused change writes nothing: no message, no event", arguments: Backend.available)
    func refusedChangeLeavesNothing(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("staff1", .staff).helper
            let volunteer = try await env.account("vol", .volunteer).helper
            let question = try await env.submit("Hotspot", by: staff)
            let events = try await env.store.count("SELECT COUNT(*) FROM question_events")
            let messages = try await env.store.count("SELECT COUNT(*) FROM messages")
            await #expect(throws: PatenError.self) { _ = try await env.desk.reply(to: question.id, body: "hi", by: volunteer) }
            await #expect(throws: PatenError.self) { _ = try await env.desk.resolve(question.id, by: volunteer) }
            await #expect(throws: PatenError.self) { _ = try await env.desk.reopen(question.id, by: staff) }
            #expect(try await env.store.count("SELECT COUNT(*) FROM question_events") == events)
            #expect(try await env.store.count("SELECT COUNT(*) FROM messages") == messages)
        }
    }

    @Test("A customer message on a resolved question reopens it", arguments: Backend.available)
    func customerMessageReopens(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let bridge = try await env.account("bridge", .integration).helper
            let staff = try await env.account("staff1", .staff).helper
            let question = try await env.submit("APN settings", by: bridge)
            #expect(question.channel == bridge.id)
            _ = try await env.desk.reply(to: question.id, body: "Use internet.example", by: staff)
            _ = try await env.desk.resolve(question.id, by: staff)
            let (reopened, message) = try await env.desk.addCustomerMessage(to: question.id, body: "Still broken", by: bridge)
            #expect(reopened.state == .open)
            #expect(message.authorKind == .customer)
            let types = try await env.desk.detail(id: question.id, for: staff).events.map(\.type)
            #expect(types.suffix(2) == [.reopened, .customerReplied])
        }
    }

    @Test("Listing pages through every question once, newest first", arguments: Backend.available)
    func pagination(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("staff1", .staff).helper
            var made: [String] = []
            for index in 0..<7 {
                made.append(try await env.submit("question \(index)", by: staff).id)
                if index % 2 == 0 { env.clock.advance(by: 1) }
            }
            var seen: [String] = []
            var cursor: QuestionCursor?
            repeat {
                let page = try await env.desk.list(QuestionFilter(limit: 3, after: cursor), for: staff)
                seen += page.questions.map(\.id)
                cursor = page.next
            } while cursor != nil
            #expect(seen.count == 7)
            #expect(Set(seen) == Set(made))
            // The last two share a timestamp; either may come first, never an older one.
            #expect([made[5], made[6]].contains(seen.first ?? ""))
        }
    }
}
