import Foundation
import PatenCore
import PatenStorage
import PatenTestSupport
import Testing

@Suite("Queue ranking")
struct QueueRankingTests {
    @Test(
        "Skill and language matches first, then priority, then age; lapsed claims are back; the page is cut after the best",
        arguments: Backend.available
    )
    func ranking(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("staff1", .staff).helper
            let vera = try await env.account("vera", .volunteer, skills: ["roaming"], languages: ["de"]).helper
            let other = try await env.account("otto", .volunteer, languages: ["en", "de"]).helper
            func ask(_ subject: String, _ topic: String, _ language: String, _ priority: String) async throws -> String {
                env.clock.advance(by: 1)
                return try await env.submit(subject, topic: topic, language: language, priority: priority, by: staff).id
            }
            let neitherOld = try await ask("Old general question", "general", "en", "normal")
            let bothLow = try await ask("Roaming question in German, low", "roaming", "de", "low")
            let languageHigh = try await ask("Data question in German, high", "mobile_data", "de", "high")
            let skillNormal = try await ask("Roaming question in English", "roaming", "en", "normal")
            let bothNormalOld = try await ask("Roaming question in German", "roaming", "de", "normal")
            let bothNormalNew = try await ask("Another roaming question in German", "roaming", "de", "normal")
            let neitherHigh = try await ask("General question, high", "general", "fr", "high")
            // A question whose claim ran out counts as open again, with its own rank.
            let lapsed = try await ask("Roaming question in German, lapsed claim", "roaming", "de", "high")
            _ = try await env.desk.claim(lapsed, by: other)
            env.clock.advance(by: 86400)
            // A question held under a live claim is not in the queue.
            let held = try await ask("Roaming question in German, held", "roaming", "de", "high")
            _ = try await env.desk.claim(held, by: other)

            let expected = [
                lapsed, bothNormalOld, bothNormalNew, bothLow, languageHigh, skillNormal, neitherHigh, neitherOld,
            ]
            #expect(try await env.desk.queue(for: vera).map(\.id) == expected)
            #expect(try await env.desk.queue(for: vera, limit: 3).map(\.id) == Array(expected.prefix(3)))
            #expect(try await env.desk.queue(for: vera, limit: 5).map(\.id) == Array(expected.prefix(5)))
        }
    }
}
