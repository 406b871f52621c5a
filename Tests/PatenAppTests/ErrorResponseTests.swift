import Foundation
import Hummingbird
import HummingbirdTesting
import PatenCore
import PatenHTTP
import PatenTestSupport
import Testing

@Suite("Error responses")
struct ErrorResponseTests {
    @Test("400: bad JSON, missing or mistyped fields, bad query parameters and cursors name what to fix", arguments: Backend.available)
    func malformed(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("staff1", .staff).token
            var response = try await client.call(.post, "/v1/questions", token: staff, raw: "{not json")
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_body")

            response = try await client.call(.post, "/v1/questions", token: staff, json: ["subject": "x", "body": "y"])
            #expect(response.status == 400)
            #expect(response.raw.contains("Missing field 'customer'"))

            response = try await client.call(
                .post, "/v1/questions", token: staff, json: ["subject": "x", "body": "y", "customer": ["id": 5, "name": "A"]]
            )
            #expect(response.status == 400)
            #expect(response.raw.contains("'customer.id'"))

            response = try await client.call(.post, "/v1/questions", token: staff)
            #expect(response.errorCode == "body_required")

            response = try await client.call(.get, "/v1/questions?state=pending", token: staff)
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_query")

            response = try await client.call(.get, "/v1/questions?cursor=%%%", token: staff)
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_cursor")

            // A well-formed cursor whose time no server gave out is refused, not a crash.
            let farFuture = Data("9223372036854775807:x".utf8).base64EncodedString()
            response = try await client.call(.get, "/v1/questions?cursor=\(farFuture)", token: staff)
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_cursor")

            response = try await client.call(.get, "/v1/questions?limit=0", token: staff)
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_limit")

            // An optional field may be left out, not sent as null; members the API does not know are ignored.
            var nullPriority = questionBody()
            nullPriority["priority"] = NSNull()
            response = try await client.call(.post, "/v1/questions", token: staff, json: nullPriority)
            #expect(response.status == 400)
            #expect(response.errorCode == "null_field")
            #expect(response.raw.contains("'priority'"))
            var unknownNull = questionBody()
            unknownNull["x_trace"] = NSNull()
            #expect(try await client.call(.post, "/v1/questions", token: staff, json: unknownNull).status == 201)
            let admin = try await env.account("root", .admin).token
            let patch = try await client.call(.patch, "/v1/helpers/staff1", token: admin, json: ["display_name": NSNull()])
            #expect(patch.errorCode == "null_field")
            #expect(patch.raw.contains("'display_name'"))
        }
    }

    @Test("401: unknown, revoked and deactivated tokens", arguments: Backend.available)
    func unauthenticated(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let (volunteer, token) = try await env.account("vol", .volunteer)
            #expect(try await client.call(.get, "/v1/me", token: "pat_nonsense").status == 401)
            #expect(try await client.call(.get, "/v1/me", token: token).status == 200)

            _ = try await env.directoryService.update(volunteer.id, HelperChange(active: false))
            #expect(try await client.call(.get, "/v1/me", token: token).status == 401)
            _ = try await env.directoryService.update(volunteer.id, HelperChange(active: true))

            let record = try #require(try await env.directoryService.allTokens(helperId: volunteer.id).first)
            let revoked = try await client.call(.delete, "/v1/tokens/\(record.id)", token: token)
            #expect(revoked.status == 200)
            #expect(revoked.string("revoked_at") != nil)
            let after = try await client.call(.get, "/v1/me", token: token)
            #expect(after.status == 401)
            #expect(after.errorCode == "unauthenticated")
        }
    }

    @Test("404: unknown question, helper, token and route", arguments: Backend.available)
    func notFound(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let admin = try await env.account("boss", .admin).token
            #expect(try await client.call(.get, "/v1/questions/q_missing", token: admin).errorCode == "question_not_found")
            #expect(try await client.call(.post, "/v1/questions/q_missing/claim", token: admin).status == 404)
            #expect(try await client.call(.get, "/v1/helpers/nobody", token: admin).errorCode == "helper_not_found")
            #expect(try await client.call(.delete, "/v1/tokens/tok_missing", token: admin).status == 404)
            let route = try await client.call(.get, "/v1/nothing-here", token: admin)
            #expect(route.status == 404)
            #expect(route.errorCode == "route_not_found")
        }
    }

    @Test("409: a claimed question names its holder; a taken handle; double resolve", arguments: Backend.available)
    func conflicts(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("staff1", .staff)
            let admin = try await env.account("boss", .admin).token
            let first = try await env.account("first", .volunteer).token
            let second = try await env.account("second", .volunteer).token
            let question = try await env.submit("Roaming", by: staff.helper)
            #expect(try await client.call(.post, "/v1/questions/\(question.id)/claim", token: first).status == 200)
            let taken = try await client.call(.post, "/v1/questions/\(question.id)/claim", token: second)
            #expect(taken.status == 409)
            #expect(taken.errorCode == "already_claimed")
            #expect(((taken.body["error"] as? [String: Any])?["details"] as? [String: String])?["holder"] == "first")

            let duplicate = try await client.call(.post, "/v1/helpers", token: admin, json: ["handle": "first", "role": "staff"])
            #expect(duplicate.status == 409)
            #expect(duplicate.errorCode == "handle_taken")

            let unanswered = try await client.call(.post, "/v1/questions/\(question.id)/resolve", token: first)
            #expect(unanswered.errorCode == "no_answer_yet")
            let reply = try await client.call(
                .post, "/v1/questions/\(question.id)/replies", token: first, json: ["body": "Restart the phone."]
            )
            #expect(reply.status == 201)
            #expect(try await client.call(.post, "/v1/questions/\(question.id)/resolve", token: first).status == 200)
            #expect(try await client.call(.post, "/v1/questions/\(question.id)/resolve", token: first).errorCode == "already_resolved")
        }
    }

    @Test("409: the only active admin cannot deactivate or demote itself; with a second admin it can", arguments: Backend.available)
    func lastAdmin(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let boss = try await env.account("boss", .admin)
            for change in [["active": false], ["role": "staff"]] as [[String: Any]] {
                let refused = try await client.call(.patch, "/v1/helpers/boss", token: boss.token, json: change)
                #expect(refused.status == 409)
                #expect(refused.errorCode == "last_admin")
            }
            #expect(try await client.call(.get, "/v1/me", token: boss.token).string("role") == "admin")
            // A deactivated admin does not count; an active one does.
            let spare = try await env.account("spare", .admin)
            #expect(try await client.call(.patch, "/v1/helpers/spare", token: boss.token, json: ["active": false]).status == 200)
            #expect(try await client.call(.patch, "/v1/helpers/boss", token: boss.token, json: ["role": "staff"]).errorCode == "last_admin")
            #expect(try await client.call(.patch, "/v1/helpers/spare", token: boss.token, json: ["active": true]).status == 200)
            #expect(
                try await client.call(.patch, "/v1/helpers/boss", token: spare.token, json: ["role": "staff"]).string("role") == "staff")
            #expect(
                try await client.call(.patch, "/v1/helpers/spare", token: spare.token, json: ["active": false]).errorCode == "last_admin")
        }
    }

    @Test("413: bodies over 64 KiB are refused before they are read in full", arguments: Backend.available)
    func tooLarge(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("staff1", .staff)
            let big = String(repeating: "a", count: 70 * 1024)
            let response = try await client.call(.post, "/v1/questions", token: staff.token, json: questionBody(body: big))
            #expect(response.status == 413)
            #expect(response.errorCode == "body_too_large")
            let question = try await env.submit("Hello", by: staff.helper)
            let reply = try await client.call(.post, "/v1/questions/\(question.id)/replies", token: staff.token, json: ["body": big])
            #expect(reply.status == 413)
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 1)
        }
    }

    @Test(
        "The NUL character is refused in bodies and paths alike on both databases; the text \\u0000 is fine", arguments: Backend.available)
    func nulCharacter(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("staff1", .staff)
            let raw = #"{"subject":"SIM\u0000","body":"x","customer":{"id":"c","name":"C"}}"#
            let refused = try await client.call(.post, "/v1/questions", token: staff.token, raw: raw)
            #expect(refused.status == 400)
            #expect(refused.errorCode == "invalid_text")
            let path = try await client.call(.get, "/v1/questions/q_%00x", token: staff.token)
            #expect(path.status == 400)
            #expect(path.errorCode == "invalid_text")
            let query = try await client.call(.get, "/v1/questions?channel=a%00", token: staff.token)
            #expect(query.errorCode == "invalid_text")
            // An escaped backslash followed by "u0000" is ordinary text.
            let text = #"{"subject":"Printing \\u0000 in C","body":"x","customer":{"id":"c","name":"C"}}"#
            let accepted = try await client.call(.post, "/v1/questions", token: staff.token, raw: text)
            #expect(accepted.status == 201)
            #expect(accepted.body["subject"] as? String == #"Printing \u0000 in C"#)
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 1)
        }
    }

    @Test("Length limits count code points, as the document's maxLength does, not what a screen shows", arguments: Backend.available)
    func lengthInCodePoints(backend: Backend) async throws {
        // Found by schemathesis: a "Zalgo" label of 40 letters under 160 combining marks is 40 characters to Swift
        // but 200 code points to JSON Schema's maxLength of 100.
        let zalgo = String(repeating: "a\u{0301}\u{0316}\u{0324}\u{0330}", count: 40)
        try await withAPI(backend: backend) { env, client in
            let admin = try await env.account("boss", .admin).token
            let staff = try await env.account("staff1", .staff).token
            let label = try await client.call(.post, "/v1/helpers/staff1/tokens", token: admin, json: ["label": zalgo])
            #expect(label.status == 422)
            #expect(label.errorCode == "invalid_label")
            let name = try await client.call(.patch, "/v1/helpers/staff1", token: admin, json: ["display_name": zalgo])
            #expect(name.errorCode == "invalid_display_name")
            let subject = try await client.call(
                .post, "/v1/questions", token: staff, json: questionBody(String(repeating: zalgo, count: 2))
            )
            #expect(subject.errorCode == "subject_too_long")
            // 100 code points is still fine.
            let fits = String(repeating: "a\u{0301}", count: 50)
            #expect(try await client.call(.post, "/v1/helpers/staff1/tokens", token: admin, json: ["label": fits]).status == 201)
        }
    }

    @Test("422: valid JSON that breaks a rule", arguments: Backend.available)
    func unprocessable(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("staff1", .staff).token
            let admin = try await env.account("boss", .admin).token
            var body = questionBody()
            body["topic"] = "astrology"
            #expect(try await client.call(.post, "/v1/questions", token: staff, json: body).errorCode == "unknown_topic")
            #expect(try await client.call(.post, "/v1/questions", token: staff, json: questionBody("   ")).errorCode == "subject_required")
            let badSkill = try await client.call(
                .post, "/v1/helpers", token: admin, json: ["handle": "vee", "role": "volunteer", "skills": ["cooking"]]
            )
            #expect(badSkill.status == 422)
            #expect(badSkill.errorCode == "unknown_topic")
            let badHandle = try await client.call(.post, "/v1/helpers", token: admin, json: ["handle": "No Spaces!", "role": "staff"])
            #expect(badHandle.errorCode == "invalid_handle")
            let trailingNewline = try await client.call(.post, "/v1/helpers", token: admin, json: ["handle": "vera\n", "role": "staff"])
            #expect(trailingNewline.errorCode == "invalid_handle")
            let negative = try await client.call(
                .post, "/v1/helpers", token: admin, json: ["handle": "bot", "role": "integration", "capacity": -1]
            )
            #expect(negative.status == 422)
            #expect(negative.errorCode == "invalid_capacity")
            let bot = try await client.call(.post, "/v1/helpers", token: admin, json: ["handle": "bot", "role": "integration"])
            #expect(bot.status == 201)
            let patch = try await client.call(.patch, "/v1/helpers/bot", token: admin, json: ["capacity": -5])
            #expect(patch.errorCode == "invalid_capacity")
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 0)
        }
    }
}

@Suite("Database outages over HTTP")
struct DatabaseOutageResponseTests {
    struct LostConnection: StorageDriverError {
        var meansUnavailable: Bool
    }

    @Test("A lost database connection is a 503 database_unavailable; a refused statement stays a logged 500")
    func unavailable() async throws {
        let router = Router()
        router.add(middleware: PatenErrorMiddleware())
        router.get("lost") { _, _ -> String in throw LostConnection(meansUnavailable: true) }
        router.get("refused") { _, _ -> String in throw LostConnection(meansUnavailable: false) }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/lost", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("database_unavailable"))
            }
            try await client.execute(uri: "/refused", method: .get) { response in
                #expect(response.status == .internalServerError)
            }
        }
    }
}
