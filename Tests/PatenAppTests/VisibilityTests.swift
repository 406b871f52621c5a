import Foundation
import Hummingbird
import HummingbirdTesting
import PatenCore
import PatenTestSupport
import Testing

@Suite("What each role sees")
struct VisibilityTests {
    /// The question ids in a list response.
    func ids(_ response: APIResponse) -> [String] {
        (response.body["questions"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    @Test("Volunteers list only their claims, never see staff-tier questions, and have no staff queue", arguments: Backend.available)
    func volunteers(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("staff1", .staff)
            let (volunteer, token) = try await env.account("vol", .volunteer)
            let mine = try await env.submit("Roaming help", by: staff.helper)
            let other = try await env.submit("Voicemail", by: staff.helper)
            let billing = try await env.submit("Invoice", body: "charged twice", by: staff.helper)
            #expect(billing.tier == .staff)
            _ = try await env.desk.claim(mine.id, by: volunteer)

            #expect(ids(try await client.call(.get, "/v1/questions", token: token)) == [mine.id])
            let detail = try await client.call(.get, "/v1/questions/\(billing.id)", token: token)
            #expect(detail.status == 403)
            #expect(detail.errorCode == "staff_tier")
            #expect(try await client.call(.get, "/v1/queue?tier=staff", token: token).status == 403)
            #expect(ids(try await client.call(.get, "/v1/queue", token: token)) == [other.id])
            #expect(Set(ids(try await client.call(.get, "/v1/questions", token: staff.token))) == [mine.id, other.id, billing.id])
        }
    }

    @Test("Staff see the staff tier in their queue by default and the volunteer tier when they ask", arguments: Backend.available)
    func staffQueue(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("staff1", .staff)
            let peer = try await env.submit("Hotspot", by: staff.helper)
            let billing = try await env.submit("Refund", body: "please refund", by: staff.helper)
            #expect(ids(try await client.call(.get, "/v1/queue", token: staff.token)) == [billing.id])
            #expect(ids(try await client.call(.get, "/v1/queue?tier=volunteer", token: staff.token)) == [peer.id])
        }
    }

    @Test("Integrations list and read only the questions they submitted", arguments: Backend.available)
    func integrations(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("staff1", .staff)
            let chat = try await env.account("chat", .integration)
            let web = try await env.account("web", .integration)
            let fromChat = try await env.submit("From chat", by: chat.helper)
            let fromWeb = try await env.submit("From web", by: web.helper)
            _ = try await env.submit("From staff", by: staff.helper)
            #expect(ids(try await client.call(.get, "/v1/questions", token: chat.token)) == [fromChat.id])
            #expect(try await client.call(.get, "/v1/questions/\(fromWeb.id)", token: chat.token).status == 404)
            #expect(try await client.call(.get, "/v1/questions/\(fromChat.id)", token: chat.token).status == 200)
            let message = try await client.call(.post, "/v1/questions/\(fromWeb.id)/messages", token: chat.token, json: ["body": "hi"])
            #expect(message.status == 404)
        }
    }

    @Test("The queue is ranked: skill and language match, then priority, then longest waiting; limit cuts it", arguments: Backend.available)
    func ranking(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("staff1", .staff).helper
            let token = try await env.account("vol", .volunteer, skills: ["roaming"], languages: ["de"]).token
            func make(_ name: String, topic: String, language: String, priority: String) async throws -> String {
                let id = try await env.submit(name, topic: topic, language: language, priority: priority, by: staff).id
                env.clock.advance(by: 60)
                return id
            }
            let bothNormalOld = try await make("a", topic: "roaming", language: "de", priority: "normal")
            let noneHigh = try await make("b", topic: "device", language: "en", priority: "high")
            let languageOnly = try await make("c", topic: "device", language: "de", priority: "normal")
            let bothLow = try await make("d", topic: "roaming", language: "de", priority: "low")
            let skillOnlyHigh = try await make("e", topic: "roaming", language: "en", priority: "high")
            let bothNormalNew = try await make("f", topic: "roaming", language: "de", priority: "normal")
            let expected = [bothNormalOld, bothNormalNew, bothLow, skillOnlyHigh, languageOnly, noneHigh]
            #expect(ids(try await client.call(.get, "/v1/queue", token: token)) == expected)
            #expect(ids(try await client.call(.get, "/v1/queue?limit=2", token: token)) == Array(expected.prefix(2)))
        }
    }
}
