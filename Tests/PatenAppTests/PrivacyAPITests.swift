import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PatenCore
import PatenTestSupport
import Testing

@Suite("Customers' data: erasure, export and retention")
struct PrivacyAPITests {
    /// Words only this test writes, so finding one anywhere means it survived.
    struct Secrets {
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        var customerId: String { "cust-\(tag)-zelda" }
        var name: String { "Zelda Quartzmann \(tag)" }
        var subject: String { "Roaming broken near Brontosaurus \(tag) \(word)" }
        /// One lowercase word of the subject, as similarity signatures keep words.
        var word: String { "zqk\(tag)x" }
        var lateNote: String { "Late note for Zelda \(tag)" }
        var lateComment: String { "Late comment Hadrosaurus \(tag)" }
        var body: String { "My number is +44 7700 900123 and the word is Pterodactyl \(tag)" }
        var reply: String { "You wrote Pterodactyl \(tag), try turning roaming on" }
        var followUp: String { "Still broken, Velociraptor \(tag)" }
        var note: String { "Customer Zelda \(tag) is upset about Ankylosaurus" }
        var resolveNote: String { "Closed for Zelda \(tag) after Stegosaurus" }
        var comment: String { "Thanks Triceratops \(tag)" }
        var second: String { "Second question Diplodocus \(tag)" }
        /// Every string that must be gone after erasure.
        var all: [String] {
            [
                customerId, name, subject, body, reply, followUp, note, resolveNote, comment, second, "Pterodactyl \(tag)",
                word, lateNote, lateComment,
            ]
        }
        /// Another customer's words, which must stay.
        var other: String { "Untouched Iguanodon \(tag)" }
    }

    static let keyHeader = HTTPField.Name("Idempotency-Key") ?? .accept

    @Test(
        "Erasure leaves no trace of the customer's words in answers, outbox, database, and keeps the numbers",
        arguments: Backend.available)
    func erasure(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let secrets = Secrets()
            let (_, admin) = try await env.account("ada", .admin)
            let (_, staff) = try await env.account("sam", .staff)
            let (volunteerAccount, volunteer) = try await env.account(
                "vera", .volunteer, skills: ["roaming"], languages: ["en"]
            )
            let (_, bridge) = try await env.account("bridge", .integration)
            let subscriber = try await client.call(
                .post, "/v1/integrations", token: admin,
                json: [
                    "name": "crm", "kind": "standard", "outbound_url": "http://127.0.0.1:9/hook", "all_channels": true,
                ]
            )
            #expect(subscriber.status == 201, "\(subscriber.raw)")
            // Intake with an Idempotency-Key: the stored response holds the subject and body.
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(bridge)"
            headers[.contentType] = "application/json"
            headers[Self.keyHeader] = "key-\(secrets.tag)"
            let intake: [String: Any] = [
                "subject": secrets.subject, "body": secrets.body,
                "customer": ["id": secrets.customerId, "name": secrets.name],
            ]
            let created = try await client.execute(
                uri: "/v1/questions", method: .post, headers: headers,
                body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: intake))
            ) { response in
                (Int(response.status.code), String(buffer: response.body))
            }
            #expect(created.0 == 201, "\(created.1)")
            let body = try #require(try JSONSerialization.jsonObject(with: Data(created.1.utf8)) as? [String: Any])
            let id = try #require(body["id"] as? String)
            let channel = try #require(body["channel"] as? String)
            #expect(try await client.call(.post, "/v1/questions/\(id)/claim", token: volunteer).status == 200)
            env.clock.advance(by: 600)
            #expect(
                try await client.call(.post, "/v1/questions/\(id)/replies", token: volunteer, json: ["body": secrets.reply])
                    .status == 201
            )
            #expect(
                try await client.call(.post, "/v1/questions/\(id)/messages", token: bridge, json: ["body": secrets.followUp])
                    .status == 201
            )
            #expect(
                try await client.call(
                    .post, "/v1/questions/\(id)/escalate", token: staff, json: ["note": secrets.note, "level": 1]
                ).status == 201
            )
            let resolved = try await client.call(
                .post, "/v1/questions/\(id)/resolve", token: staff, json: ["note": secrets.resolveNote]
            )
            #expect(resolved.status == 200, "\(resolved.raw)")
            let detail = try await client.call(.get, "/v1/questions/\(id)", token: bridge)
            let link = try #require(detail.string("rating_url"))
            let ratingPath = String(link.dropFirst(env.runtime.configuration.externalURL.count))
            #expect(
                try await client.call(.post, ratingPath, json: ["score": 4, "comment": secrets.comment, "solved": true])
                    .status == 201
            )
            let second = try await client.call(
                .post, "/v1/questions", token: bridge,
                json: [
                    "subject": secrets.second, "body": secrets.second,
                    "customer": ["id": secrets.customerId, "name": secrets.name],
                ]
            )
            #expect(second.status == 201)
            let secondId = try #require(second.string("id"))
            let other = try await client.call(
                .post, "/v1/questions", token: bridge,
                json: ["subject": secrets.other, "body": secrets.other, "customer": ["id": "someone-else", "name": "Bo"]]
            )
            let otherId = try #require(other.string("id"))

            // Access first: the export holds everything, and no helper's account id.
            let export = try await client.call(.get, "/v1/customers/\(channel)/\(secrets.customerId)/export", token: admin)
            #expect(export.status == 200, "\(export.raw)")
            #expect(export.string("customer_id") == secrets.customerId)
            let exported = try #require(export.body["questions"] as? [[String: Any]])
            #expect(exported.map { $0["id"] as? String } == [id, secondId])
            for text in [secrets.subject, secrets.body, secrets.reply, secrets.followUp, secrets.comment] {
                #expect(export.raw.contains(text), "the export lacks \(text)")
            }
            #expect(!export.raw.contains(volunteerAccount.id), "the export names a helper's account")
            #expect(!export.raw.contains(secrets.other))
            #expect(
                try await client.call(.get, "/v1/customers/\(channel)/\(secrets.customerId)/export", token: staff).status
                    == 403
            )

            let before = try await Self.numbers(client, token: admin, helper: volunteerAccount.id)

            // Only admins erase.
            for token in [volunteer, staff, bridge] {
                let refused = try await client.call(.delete, "/v1/customers/\(channel)/\(secrets.customerId)", token: token)
                #expect(refused.status == 403, "\(refused.raw)")
            }
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions WHERE subject = ?", [secrets.subject]) == 1)

            let erased = try await client.call(.delete, "/v1/customers/\(channel)/\(secrets.customerId)", token: admin)
            #expect(erased.status == 200, "\(erased.raw)")
            #expect(erased.body["questions"] as? Int == 2)
            #expect(!erased.raw.contains(secrets.customerId))
            // Idempotent: nothing more to erase.
            let again = try await client.call(.delete, "/v1/customers/\(channel)/\(secrets.customerId)", token: admin)
            #expect(again.status == 200)
            #expect(again.body["questions"] as? Int == 0)
            let audit = try await client.call(.get, "/v1/erasures", token: admin)
            #expect((audit.body["erasures"] as? [[String: Any]])?.count == 2)
            #expect(!audit.raw.contains(secrets.customerId))
            #expect(try await client.call(.get, "/v1/erasures", token: staff).status == 403)

            // No API answer holds the words.
            var answers: [String] = []
            for path in [
                "/v1/questions/\(id)", "/v1/questions/\(secondId)", "/v1/questions?limit=50", "/v1/escalations",
                "/v1/queue",
            ] {
                let answer = try await client.call(.get, path, token: admin)
                #expect(answer.status == 200, "\(path): \(answer.raw)")
                answers.append(answer.raw)
            }
            answers.append(try await client.call(.get, "/v1/queue", token: volunteer).raw)
            for text in secrets.all {
                for answer in answers { #expect(!answer.contains(text), "an API answer still holds '\(text)'") }
            }
            let redacted = try await client.call(.get, "/v1/questions/\(id)", token: admin)
            #expect(Self.question(redacted)["subject"] as? String == Tombstone.text)
            #expect(Self.question(redacted)["state"] as? String == "resolved")
            let messages = try #require(redacted.body["messages"] as? [[String: Any]])
            #expect(messages.count == 3)
            #expect(messages.allSatisfy { $0["body"] as? String == Tombstone.text })
            // The export of an erased customer finds nothing; the other customer's is intact.
            let gone = try await client.call(.get, "/v1/customers/\(channel)/\(secrets.customerId)/export", token: admin)
            #expect(gone.status == 404)
            #expect(gone.errorCode == "customer_not_found")
            let kept = try await client.call(.get, "/v1/questions/\(otherId)", token: admin)
            #expect(Self.question(kept)["subject"] as? String == secrets.other)

            // Counts, times, scores and credit are unchanged.
            #expect(try await Self.numbers(client, token: admin, helper: volunteerAccount.id) == before)
            #expect(try await env.store.count("SELECT COUNT(*) FROM ratings WHERE question_id = ? AND score = 4", [id]) == 1)
            #expect(try await env.store.count("SELECT COUNT(*) FROM conversations WHERE question_id = ?", [id]) == 0)
            #expect(try await env.store.count("SELECT COUNT(*) FROM outbox_messages WHERE question_id = ?", [id]) > 0)

            // Words written about the erased customer afterwards are not kept: a note becomes a tombstone, a late
            // rating keeps its score and drops its comment, replies are refused.
            let lateReply = try await client.call(
                .post, "/v1/questions/\(secondId)/replies", token: staff, json: ["body": "Dear Zelda \(secrets.tag)"]
            )
            #expect(lateReply.errorCode == "question_redacted", "\(lateReply.raw)")
            let lateResolve = try await client.call(
                .post, "/v1/questions/\(secondId)/resolve", token: staff, json: ["note": secrets.lateNote]
            )
            #expect(lateResolve.status == 200, "\(lateResolve.raw)")
            let lateLink = try #require(try await client.call(.get, "/v1/questions/\(secondId)", token: bridge).string("rating_url"))
            let lateRating = try await client.call(
                .post, String(lateLink.dropFirst(env.runtime.configuration.externalURL.count)),
                json: ["score": 2, "comment": secrets.lateComment]
            )
            #expect(lateRating.status == 201, "\(lateRating.raw)")
            #expect(try await env.store.count("SELECT COUNT(*) FROM ratings WHERE question_id = ? AND score = 2", [secondId]) == 1)

            // The customer starts afresh: no new words under the tombstones.
            let late = try await client.call(
                .post, "/v1/questions/\(secondId)/messages", token: bridge, json: ["body": "Late words \(secrets.tag)"]
            )
            #expect(late.status == 409, "\(late.raw)")
            #expect(late.errorCode == "question_redacted")

            // And no row of the database holds them.
            try await Self.expectNowhere(secrets.all, present: secrets.other, env: env)
        }
    }

    @Test("Erasure refuses bad paths and names what to fix", arguments: Backend.available)
    func refusals(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let (_, admin) = try await env.account("ada", .admin)
            let tombstone = try await client.call(.delete, "/v1/customers/api/%5Berased%5D", token: admin)
            #expect(tombstone.status == 422)
            #expect(tombstone.errorCode == "invalid_customer_id")
            let long = try await client.call(.delete, "/v1/customers/api/\(String(repeating: "x", count: 201))", token: admin)
            #expect(long.errorCode == "invalid_customer_id")
            let unknown = try await client.call(.get, "/v1/customers/api/nobody/export", token: admin)
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "customer_not_found")
            #expect(try await client.call(.delete, "/v1/customers/api/nobody").status == 401)
            let none = try await client.call(.delete, "/v1/customers/api/nobody", token: admin)
            #expect(none.status == 200)
            #expect(none.body["questions"] as? Int == 0)
            #expect(try await client.call(.get, "/v1/erasures?limit=0", token: admin).errorCode == "invalid_query")
            #expect(try await client.call(.get, "/v1/erasures?limit=many", token: admin).errorCode == "invalid_query")
            let badEncoding = try await client.call(.delete, "/v1/customers/api/%ZZ", token: admin)
            #expect(badEncoding.status == 400, "\(badEncoding.raw)")
            #expect(badEncoding.errorCode == "invalid_path")
            // Nobody can pass a question off as redacted (it would stall the retention purge and escape it).
            var body = questionBody()
            body["customer"] = ["id": Tombstone.text, "name": Tombstone.text]
            body["subject"] = Tombstone.text
            let posing = try await client.call(.post, "/v1/questions", token: admin, json: body)
            #expect(posing.status == 422)
            #expect(posing.errorCode == "customer_id_reserved")
        }
    }

    @Test(
        "Retention purges the texts of questions resolved longer ago than resolved_days, and only those",
        arguments: Backend.available)
    func retention(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let (adminAccount, admin) = try await env.account("ada", .admin)
            let old = try await env.submit(
                "Old question Mammoth", body: "Old words Mastodon", customer: Customer(id: "c-old", name: "Olga"),
                by: adminAccount
            )
            #expect(try await client.call(.post, "/v1/questions/\(old.id)/resolve", token: admin, json: ["note": "done"]).status == 200)
            let days = env.runtime.policy.retention.resolvedDays
            env.clock.advance(by: Double(days - 10) * 86_400)
            let recent = try await env.submit(
                "Recent question Sabertooth", customer: Customer(id: "c-new", name: "Nina"), by: adminAccount
            )
            #expect(try await client.call(.post, "/v1/questions/\(recent.id)/resolve", token: admin, json: ["note": "done"]).status == 200)
            let openQuestion = try await env.submit("Open question Dodo", customer: Customer(id: "c-open", name: "Otto"), by: adminAccount)
            #expect(try await env.runtime.privacy.purgeDue(limit: 100) == 0)
            env.clock.advance(by: 11 * 86_400)
            // The app's own RetentionPurge wakes on the same clock and may purge it first: either way it is done once.
            _ = try await env.runtime.privacy.purgeDue(limit: 100)
            #expect(try await env.runtime.privacy.purgeDue(limit: 100) == 0)
            try await env.runtime.privacy.scrubFreedSpace()
            let purged = try await client.call(.get, "/v1/questions/\(old.id)", token: admin)
            #expect(Self.question(purged)["subject"] as? String == Tombstone.text)
            #expect(Self.question(purged)["state"] as? String == "resolved")
            let kept = try await client.call(.get, "/v1/questions/\(recent.id)", token: admin)
            #expect(Self.question(kept)["subject"] as? String == recent.subject)
            let open = try await client.call(.get, "/v1/questions/\(openQuestion.id)", token: admin)
            #expect(Self.question(open)["subject"] as? String == openQuestion.subject)
            try await Self.expectNowhere(["Mammoth", "Mastodon", "Olga"], present: "Sabertooth", env: env)
        }
    }

    @Test("After erasure a message in the same chat conversation starts a new question", arguments: Backend.available)
    func afresh(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let (_, admin) = try await env.account("ada", .admin)
            let made = try await env.runtime.integrations.create(NewIntegration(name: "webchat", kind: .standard))
            let id = made.integration.id
            let conversation = "conv-4477009001-\(UUID().uuidString.prefix(6))"
            let first = try messageCreated(
                conversation: conversation, text: "Lost my SIM Gallimimus", customer: "cust-fresh", name: "Fritz"
            )
            let created = try await client.hook(
                id, headers: try standardHeaders(id: "wh-1", body: first, secrets: [made.secret], at: env.clock.now()),
                body: first
            )
            let old = try #require(created.string("question_id"))
            let erased = try await client.call(.delete, "/v1/customers/\(id)/cust-fresh", token: admin)
            #expect(erased.body["questions"] as? Int == 1, "\(erased.raw)")
            let again = try messageCreated(conversation: conversation, text: "Hello again", customer: "cust-fresh", name: "Fritz")
            let fresh = try await client.hook(
                id, headers: try standardHeaders(id: "wh-2", body: again, secrets: [made.secret], at: env.clock.now()),
                body: again
            )
            #expect(fresh.string("result") == "question_created", "\(fresh.raw)")
            let newId = try #require(fresh.string("question_id"))
            #expect(newId != old)
            #expect(try await env.store.question(id: old)?.subject == Tombstone.text)
            #expect(try await env.store.questionDetail(id: old, page: DetailPage())?.messages.count == 1)
            // The conversation id now belongs to the new question only; the old one's timeline forgot it.
            #expect(try await env.store.count("SELECT COUNT(*) FROM conversations WHERE question_id = ?", [old]) == 0)
            #expect(
                try await env.store.count("SELECT COUNT(*) FROM question_events WHERE question_id = ? AND data LIKE ?", [old, "%conv-%"])
                    == 0)
            #expect(
                try await env.store.count("SELECT COUNT(*) FROM question_events WHERE question_id = ? AND data LIKE ?", [newId, "%conv-%"])
                    == 1)
        }
    }

    @Test(
        "An incident named after an erased question loses its title, even after the question was unlinked",
        arguments: Backend.available)
    func incidentTitle(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let (_, admin) = try await env.account("ada", .admin)
            var ids: [String] = []
            for (index, subject) in IncidentAPITests.outage.enumerated() {
                ids.append(try await IncidentAPITests.submit(client, subject, token: admin, customer: "c\(index)"))
            }
            let incident = try #require(try await IncidentAPITests.incidents(client, token: admin).first)
            let incidentId = try #require(incident["id"] as? String)
            let title = try #require(incident["title"] as? String)
            let masked = IncidentAPITests.outage.map { ContactMasker().mask($0) }
            let index = try #require(masked.firstIndex(of: title), "the title is one of the subjects, masked")
            let unlinked = try await client.call(.delete, "/v1/incidents/\(incidentId)/questions/\(ids[index])", token: admin)
            #expect(unlinked.status == 200, "\(unlinked.raw)")
            let erased = try await client.call(.delete, "/v1/customers/api/c\(index)", token: admin)
            #expect(erased.body["questions"] as? Int == 1, "\(erased.raw)")
            let after = try await client.call(.get, "/v1/incidents/\(incidentId)", token: admin)
            #expect(!after.raw.contains(title))
            #expect(try await env.store.count("SELECT COUNT(*) FROM incidents WHERE title = ?", [title]) == 0)
            #expect(try await env.store.count("SELECT COUNT(*) FROM incidents WHERE title = ?", [Tombstone.text]) == 1)
        }
    }

    /// The question of a detail answer.
    static func question(_ detail: APIResponse) -> [String: Any] {
        detail.body["question"] as? [String: Any] ?? [:]
    }

    /// What erasure must not change: the metrics summary and the volunteer's programme.
    static func numbers(_ client: any TestClientProtocol, token: String, helper: String) async throws -> String {
        let summary = try await client.call(.get, "/v1/metrics/summary?from=2000-01-01", token: token)
        let programme = try await client.call(.get, "/v1/helpers/\(helper)/programme", token: token)
        return summary.raw + "\n" + programme.raw
    }

    /// Fails for each of `texts` found in the database: the SQLite file and its write-ahead log, byte for byte, or
    /// every PostgreSQL table's rows as text. `present` must be found, or the search proves nothing.
    static func expectNowhere(_ texts: [String], present: String, env: TestEnvironment) async throws {
        switch env.backend {
        case .sqlite:
            let path = env.runtime.configuration.databasePath
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            if let wal = try? Data(contentsOf: URL(fileURLWithPath: path + "-wal")) { bytes.append(wal) }
            #expect(bytes.range(of: Data(present.utf8)) != nil, "the search did not find what must be there")
            for text in texts {
                #expect(bytes.range(of: Data(text.utf8)) == nil, "the SQLite file still holds '\(text)'")
            }
        case .postgres:
            let tables = try migrationTables()
            func found(_ text: String) async throws -> [String] {
                var hits: [String] = []
                for table in tables {
                    let rows = try await env.store.count(
                        "SELECT COUNT(*) FROM \(table) t WHERE strpos(t::text, ?) > 0", [text]
                    )
                    if rows > 0 { hits.append(table) }
                }
                let payloads = try await env.store.count(
                    "SELECT COUNT(*) FROM outbox_messages WHERE strpos(convert_from(payload, 'UTF8'), ?) > 0", [text]
                )
                if payloads > 0 { hits.append("outbox_messages.payload") }
                return hits
            }
            #expect(try await !found(present).isEmpty, "the search did not find what must be there")
            for text in texts {
                let hits = try await found(text)
                #expect(hits.isEmpty, "PostgreSQL still holds '\(text)' in \(hits)")
            }
        }
    }

    /// The tables the PostgreSQL migrations create (and keep).
    static func migrationTables() throws -> [String] {
        let folder = repositoryRoot.appendingPathComponent("Migrations/postgres")
        var tables: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
            let sql = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for line in sql.split(separator: "\n") where line.hasPrefix("CREATE TABLE ") {
                let name = line.dropFirst("CREATE TABLE ".count).prefix { $0 != " " && $0 != "(" }
                if !name.hasSuffix("_rebuilt") && !tables.contains(String(name)) { tables.append(String(name)) }
            }
        }
        return tables
    }
}
