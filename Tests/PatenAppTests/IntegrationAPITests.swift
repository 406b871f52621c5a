import Foundation
import PatenCore
import PatenTestSupport
import Testing

@Suite("Integration admin API")
struct IntegrationAPITests {
    @Test(
        "Admins connect, list, show, change and rotate integrations; secrets are shown only at creation and rotation",
        arguments: Backend.available)
    func lifecycle(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let (_, admin) = try await env.account("root", .admin)
            let (_, staff) = try await env.account("sam", .staff)
            let created = try await client.call(
                .post, "/v1/integrations", token: admin,
                json: ["name": "bridge", "kind": "standard", "outbound_url": "http://127.0.0.1:9/hook", "events": ["question.replied"]]
            )
            #expect(created.status == 201)
            let integration = try #require(created.body["integration"] as? [String: Any])
            let id = try #require(integration["id"] as? String)
            #expect((created.string("secret") ?? "").hasPrefix("whsec_"))
            #expect(integration["inbound_path"] as? String == "/hooks/\(id)")
            #expect(try await client.call(.get, "/v1/integrations", token: staff).status == 403)
            let list = try await client.call(.get, "/v1/integrations", token: admin)
            #expect(!list.raw.contains("whsec_"))
            #expect((list.body["integrations"] as? [[String: Any]])?.count == 1)

            let shown = try await client.call(.get, "/v1/integrations/bridge", token: admin)
            #expect(shown.status == 200)
            #expect(!shown.raw.contains("whsec_"))
            #expect((shown.body["secrets"] as? [[String: Any]])?.count == 1)

            let removed = try await client.call(.patch, "/v1/integrations/\(id)", token: admin, raw: #"{"outbound_url":null}"#)
            #expect(removed.status == 422)
            #expect(removed.errorCode == "outbound_url_required")
            let cleared = try await client.call(
                .patch, "/v1/integrations/\(id)", token: admin, raw: #"{"outbound_url":null,"events":[]}"#
            )
            #expect(cleared.status == 200)
            #expect(cleared.body["outbound_url"] == nil)
            // Found by schemathesis: a change of only unknown fields changes nothing, a rule (422), not bad JSON.
            for body in ["{}", #"{"colour":"blue"}"#] {
                let empty = try await client.call(.patch, "/v1/integrations/\(id)", token: admin, raw: body)
                #expect(empty.status == 422)
                #expect(empty.errorCode == "empty_change")
            }
            let nullState = try await client.call(.patch, "/v1/integrations/\(id)", token: admin, raw: #"{"all_channels":null}"#)
            #expect(nullState.errorCode == "null_field")
            #expect(nullState.raw.contains("'all_channels'"))

            let rotated = try await client.call(
                .post, "/v1/integrations/\(id)/rotate-secret", token: admin, json: ["overlap_seconds": 60]
            )
            #expect(rotated.status == 200)
            #expect(rotated.string("secret") != created.string("secret"))
            let revoked = try await client.call(.delete, "/v1/integrations/\(id)/previous-secrets", token: admin)
            #expect(revoked.body["revoked"] as? Int == 1)
            let badOverlap = try await client.call(
                .post, "/v1/integrations/\(id)/rotate-secret", token: admin, json: ["overlap_seconds": -1]
            )
            #expect(badOverlap.errorCode == "invalid_overlap")
        }
    }

    @Test("Bad integration requests get the status and code that say what to fix", arguments: Backend.available)
    func errors(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let (_, admin) = try await env.account("root", .admin)
            func create(_ json: [String: Any]) async throws -> APIResponse {
                try await client.call(.post, "/v1/integrations", token: admin, json: json)
            }
            #expect(try await create(["name": "x y", "kind": "standard"]).errorCode == "invalid_handle")
            #expect(try await create(["name": "chat", "kind": "teams"]).status == 400)
            #expect(try await create(["name": "chat", "kind": "slack"]).errorCode == "slack_secret_required")
            #expect(
                try await create(["name": "chat", "kind": "slack", "secret": "abcdefabcdefabcdef", "outbound_url": "http://127.0.0.1/"])
                    .errorCode == "outbound_needs_standard"
            )
            #expect(try await create(["name": "chat", "kind": "standard", "secret": "mine"]).errorCode == "secret_not_accepted")
            #expect(
                try await create(["name": "chat", "kind": "standard", "outbound_url": "ftp://example.com/"]).errorCode
                    == "invalid_outbound_url")
            #expect(
                try await create(["name": "chat", "kind": "standard", "events": ["question.replied"]]).errorCode == "outbound_url_required")
            #expect(try await create(["name": "chat", "kind": "standard", "events": ["nope"]]).status == 400)
            #expect(try await create(["name": "chat", "kind": "standard"]).status == 201)
            #expect(try await create(["name": "chat", "kind": "standard"]).errorCode == "handle_taken")
            #expect(try await client.call(.get, "/v1/integrations/int_nope", token: admin).status == 404)
            #expect(try await client.call(.get, "/v1/deliveries/msg_nope", token: admin).status == 404)
            #expect(try await client.call(.post, "/v1/deliveries/msg_nope/redeliver", token: admin).status == 404)
            let since = try await client.call(.post, "/v1/integrations/chat/redeliver", token: admin, json: ["since": "yesterday"])
            #expect(since.status == 400)
            let noOutbound = try await client.call(
                .post, "/v1/integrations/chat/redeliver", token: admin, json: ["since": "2026-01-01T00:00:00Z"]
            )
            #expect(noOutbound.errorCode == "outbound_disabled")
            #expect(try await env.store.count("SELECT COUNT(*) FROM integrations") == 1)
        }
    }

    @Test("The delivery log pages newest first and shows one message with its body", arguments: Backend.available)
    func deliveryLog(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let (_, admin) = try await env.account("root", .admin)
            let (staff, _) = try await env.account("sam", .staff)
            _ = try await env.runtime.integrations.create(
                NewIntegration(
                    name: "bridge", kind: .standard, outboundURL: "http://127.0.0.1:9/hook", events: [.questionCreated],
                    allChannels: true
                )
            )
            for number in 1...3 {
                _ = try await env.submit("Question \(number)", by: staff)
                env.clock.advance(by: 1)
            }
            let first = try await client.call(.get, "/v1/integrations/bridge/deliveries?limit=2", token: admin)
            let page = try #require(first.body["deliveries"] as? [[String: Any]])
            #expect(page.count == 2)
            let cursor = try #require(first.string("next_cursor"))
            let second = try await client.call(.get, "/v1/integrations/bridge/deliveries?limit=2&cursor=\(cursor)", token: admin)
            #expect((second.body["deliveries"] as? [[String: Any]])?.count == 1)
            let pending = try await client.call(.get, "/v1/integrations/bridge/deliveries?state=pending", token: admin)
            #expect((pending.body["deliveries"] as? [[String: Any]])?.count == 3)
            #expect(try await client.call(.get, "/v1/integrations/bridge/deliveries?state=lost", token: admin).status == 400)
            let id = try #require(page.first?["id"] as? String)
            let one = try await client.call(.get, "/v1/deliveries/\(id)", token: admin)
            let payload = try #require(one.string("payload"))
            #expect(payload.contains("\"subject\":\"Question 3\""))
        }
    }
}
