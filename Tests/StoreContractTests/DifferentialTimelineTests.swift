import Foundation
import PatenCore
import PatenTestSupport
import Testing

/// One scenario run on SQLite and on PostgreSQL: the two stores must write the same timelines, event by event.
@Suite("Differential: SQLite and PostgreSQL write the same timelines")
struct DifferentialTimelineTests {
    /// An event as both stores must agree on it: ids that differ between runs are replaced by what they name.
    struct Step: Equatable, CustomStringConvertible {
        var type: String
        var actor: String
        var at: Int64
        var data: [String: String]

        var description: String { "\(type) by \(actor) at \(at) \(data.sorted { $0.key < $1.key })" }
    }

    /// Runs the scenario and returns every question's timeline, by subject.
    static func scenario(_ backend: Backend) async throws -> [String: [Step]] {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let vera = try await env.account("vera", .volunteer, skills: ["roaming"], languages: ["en"]).helper
            let otto = try await env.account("otto", .volunteer).helper
            let bridge = try await env.account("bridge", .integration).helper

            // A peer question answered, followed up, answered again and resolved; then rated badly.
            let answered = try await env.submit("Roaming in Spain", body: "No data abroad.", by: bridge)
            _ = try await env.desk.claim(answered.id, by: vera)
            env.clock.advance(by: 60)
            _ = try await env.desk.reply(to: answered.id, body: "Enable data roaming.", by: vera)
            env.clock.advance(by: 60)
            _ = try await env.desk.addCustomerMessage(to: answered.id, body: "Still nothing.", by: bridge)
            _ = try await env.desk.reply(to: answered.id, body: "Restart the phone.", by: vera)
            _ = try await env.desk.resolve(answered.id, by: vera)

            // A question whose leases run out twice (escalates), then moves to staff at the end of its peer window.
            let abandoned = try await env.submit("Voicemail", body: "Cannot reach voicemail.", by: staff)
            _ = try await env.desk.claim(abandoned.id, by: otto)
            env.clock.advance(by: 31 * 60)
            _ = try await env.desk.expireLeases()
            _ = try await env.desk.claim(abandoned.id, by: vera)
            env.clock.advance(by: 31 * 60)
            _ = try await env.desk.expireLeases()

            // Critical and staff-only intake, a follow-up that names fraud, a staff resolution with a note.
            let critical = try await env.submit("Stolen phone", body: "My phone was stolen, block my SIM.", by: bridge)
            let drifting = try await env.submit("Hello", body: "I have a question about my plan.", by: bridge)
            _ = try await env.desk.addCustomerMessage(to: drifting.id, body: "Someone hacked my account, fraud!", by: bridge)
            _ = try await env.desk.resolve(critical.id, note: "Blocked by phone", by: staff)
            _ = try await env.desk.reopen(critical.id, by: staff)

            env.clock.advance(by: 3 * 3600)
            _ = try await env.desk.sweep()
            if let token = try await env.desk.detail(id: answered.id, for: bridge).ratingUrl?.split(separator: "/").last {
                _ = try await env.desk.rate(token: String(token), score: 1, comment: "Did not help")
            }

            var handles: [String: String] = [:]
            for helper in [staff, vera, otto, bridge] { handles[helper.id] = helper.handle }
            var timelines: [String: [Step]] = [:]
            for question in [answered, abandoned, critical, drifting] {
                let detail = try await env.desk.detail(id: question.id, page: DetailPage(eventLimit: 500), for: staff)
                timelines[question.subject] = detail.events.map { event in
                    Step(
                        type: event.type.rawValue, actor: event.actorId.map { handles[$0] ?? "?" } ?? "system",
                        at: event.at.millisecondsSince1970,
                        data: event.data.mapValues { value in
                            if let handle = handles[value] { return handle }
                            // Ids of rows made in the run (claims, messages, escalations) differ between runs.
                            if let prefix = value.split(separator: "_").first, value.contains("_"),
                                ["q", "m", "c", "esc"].contains(prefix)
                            {
                                return "<\(prefix) id>"
                            }
                            return value
                        }
                    )
                }
            }
            return timelines
        }
    }

    @Test(
        "The same commands give the same events, actors, times and facts on both databases",
        .enabled(if: PostgresTestServer.available, "needs scripts/postgres.sh (run scripts/test.sh)")
    )
    func sameTimelines() async throws {
        let sqlite = try await Self.scenario(.sqlite)
        let postgres = try await Self.scenario(.postgres)
        #expect(sqlite.keys.sorted() == postgres.keys.sorted())
        #expect(sqlite.values.map(\.count).reduce(0, +) > 25, "the scenario should exercise many events")
        for subject in sqlite.keys.sorted() {
            let left = sqlite[subject] ?? []
            let right = postgres[subject] ?? []
            #expect(left.count == right.count, "\(subject): \(left.count) events on SQLite, \(right.count) on PostgreSQL")
            for (index, (a, b)) in zip(left, right).enumerated() {
                #expect(a == b, "\(subject) event \(index): SQLite \(a) / PostgreSQL \(b)")
            }
        }
    }
}
