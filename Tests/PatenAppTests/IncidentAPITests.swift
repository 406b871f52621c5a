import Foundation
import Hummingbird
import HummingbirdTesting
import PatenApp
import PatenCore
import PatenTestSupport
import Testing

/// Surges and incidents through the API, on both databases: a burst opens one incident, later questions join it,
/// updates reach every open linked customer, staff link, unlink, merge and resolve; the baseline keeps a usual
/// busy hour from being a surge; similar solved questions are offered.
@Suite("Incidents API")
struct IncidentAPITests {
    static let outage = [
        "No mobile data since this morning",
        "Mobile data not working since this morning",
        "No mobile data at all since this morning, mail me at kim@example.com",
        "Mobile data stopped working this morning",
        "Data connection not working since this morning, no mobile internet",
    ]

    static func submit(
        _ client: any TestClientProtocol, _ subject: String, token: String, customer: String
    ) async throws -> String {
        var body = questionBody(subject, body: subject + ". Please help.")
        body["customer"] = ["id": customer, "name": "Kim"]
        let response = try await client.call(.post, "/v1/questions", token: token, json: body)
        #expect(response.status == 201, "\(response.raw)")
        return try #require(response.string("id"), "\(response.raw)")
    }

    static func incidents(_ client: any TestClientProtocol, token: String) async throws -> [[String: Any]] {
        let list = try await client.call(.get, "/v1/incidents", token: token)
        #expect(list.status == 200, "\(list.raw)")
        return list.body["incidents"] as? [[String: Any]] ?? []
    }

    static func detail(_ client: any TestClientProtocol, _ id: String, token: String) async throws -> APIResponse {
        try await client.call(.get, "/v1/questions/\(id)", token: token)
    }

    static func helperMessages(_ detail: APIResponse) -> [String] {
        (detail.body["messages"] as? [[String: Any]] ?? []).filter { $0["author_kind"] as? String == "helper" }
            .compactMap { $0["body"] as? String }
    }

    @Test("A burst opens one incident; later questions join; updates, links, merges and resolution", arguments: Backend.available)
    func incidentFlow(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let (_, staff) = try await env.account("sam", .staff)
            let (_, volunteer) = try await env.account("vera", .volunteer)

            var burst: [String] = []
            for (index, subject) in Self.outage.prefix(4).enumerated() {
                burst.append(try await Self.submit(client, subject, token: staff, customer: "c\(index)"))
            }
            let unrelated = try await Self.submit(client, "How do I change my tariff", token: staff, customer: "u1")
            let topUp = try await Self.submit(client, "Top up failed with my credit card", token: staff, customer: "u2")
            // Four similar questions are no surge yet.
            #expect(try await Self.incidents(client, token: staff).isEmpty)
            burst.append(try await Self.submit(client, Self.outage[4], token: staff, customer: "c4"))

            let incidents = try await Self.incidents(client, token: staff)
            #expect(incidents.count == 1, "\(incidents)")
            let incident = try #require(incidents.first)
            let incidentId = try #require(incident["id"] as? String)
            #expect(incident["state"] as? String == "open")
            #expect(incident["observed"] as? Int == 5)
            #expect(incident["expected"] as? Double == 0)
            #expect(incident["question_count"] as? Int == 5)
            #expect((incident["top_terms"] as? [String])?.contains("data") == true, "\(incident)")
            #expect(incident["anchor_question_id"] as? String == burst[4])
            // The title is a question's subject with contact data masked.
            let title = try #require(incident["title"] as? String)
            #expect(!title.contains("kim@example.com"), "\(title)")
            let shown = try await client.call(.get, "/v1/incidents/\(incidentId)", token: staff)
            let linked = Set((shown.body["questions"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            #expect(linked == Set(burst), "\(shown.raw)")
            #expect(!linked.contains(unrelated) && !linked.contains(topUp))
            // The anchor records the opening (sent out as incident.opened) and a surge escalation is open.
            let anchor = try await Self.detail(client, burst[4], token: staff)
            #expect(anchor.raw.contains("incident.opened"))
            let escalations = try await client.call(.get, "/v1/escalations?state=open", token: staff)
            #expect(escalations.raw.contains("\"surge\""), "\(escalations.raw)")

            // Volunteers cannot list incidents; integrations cannot either.
            let refused = try await client.call(.get, "/v1/incidents", token: volunteer)
            #expect(refused.status == 403)
            #expect(refused.errorCode == "staff_only")

            // One linked question is resolved before the update: it gets nothing.
            #expect(try await client.call(.post, "/v1/questions/\(burst[0])/claim", token: volunteer).status == 200)
            let answer = try await client.call(
                .post, "/v1/questions/\(burst[0])/replies", token: volunteer, json: ["body": "Restart the phone."]
            )
            #expect(answer.status == 201)
            #expect(try await client.call(.post, "/v1/questions/\(burst[0])/resolve", token: volunteer).status == 200)

            let text = "We know about the outage in the north and are working on it."
            let empty = try await client.call(.post, "/v1/incidents/\(incidentId)/updates", token: staff, json: ["body": "  "])
            #expect(empty.status == 422)
            #expect(empty.errorCode == "body_required")
            let posted = try await client.call(.post, "/v1/incidents/\(incidentId)/updates", token: staff, json: ["body": text])
            #expect(posted.status == 201, "\(posted.raw)")
            for id in burst.dropFirst() {
                let detail = try await Self.detail(client, id, token: staff)
                #expect(Self.helperMessages(detail) == [text], "\(id): \(detail.raw)")
                #expect(detail.raw.contains("incident_update_id"))
            }
            #expect(Self.helperMessages(try await Self.detail(client, burst[0], token: staff)) == ["Restart the phone."])

            // A similar question joins at intake and gets the latest update at once; a volunteer sees the incident.
            let joined = try await Self.submit(client, "Mobile data down since this morning", token: staff, customer: "c9")
            let joinedDetail = try await Self.detail(client, joined, token: staff)
            #expect(Self.helperMessages(joinedDetail) == [text], "\(joinedDetail.raw)")
            #expect(joinedDetail.raw.contains("\"joined\""))
            #expect(try await client.call(.post, "/v1/questions/\(joined)/claim", token: volunteer).status == 200)
            let seen = try await Self.detail(client, joined, token: volunteer)
            let brief = try #require((seen.body["question"] as? [String: Any])?["incident"] as? [String: Any], "\(seen.raw)")
            #expect(brief["id"] as? String == incidentId)
            #expect((brief["latest_update"] as? [String: Any])?["body"] as? String == text)
            #expect(!seen.raw.contains("kim@example.com"))
            // The queue says so too, in the same read (both databases), for the linked questions only.
            let queue = try await client.call(.get, "/v1/queue", token: volunteer)
            #expect(queue.status == 200)
            let listed = queue.body["questions"] as? [[String: Any]] ?? []
            let marked = listed.filter { ($0["incident"] as? [String: Any])?["id"] as? String == incidentId }
                .compactMap { $0["id"] as? String }
            #expect(!marked.isEmpty && Set(marked).isSubset(of: Set(burst)), "\(queue.raw)")
            #expect(listed.first { $0["id"] as? String == topUp }.map { $0["incident"] == nil } ?? true)

            // A second burst on another subject opens a second incident; merged into the first, it moves there.
            var roaming: [String] = []
            for (index, subject) in [
                "Roaming charges in Spain are too high", "High roaming charges in Spain on my bill",
                "Why are my roaming charges in Spain so high", "Roaming in Spain charged too high",
                "Spain roaming charges far too high this month",
            ].enumerated() {
                roaming.append(try await Self.submit(client, subject, token: staff, customer: "r\(index)"))
            }
            let both = try await Self.incidents(client, token: staff)
            #expect(both.count == 2, "\(both)")
            let second = try #require(both.compactMap { $0["id"] as? String }.first { $0 != incidentId })
            let same = try await client.call(
                .post, "/v1/incidents/\(incidentId)/merge", token: staff, json: ["incident_id": incidentId]
            )
            #expect(same.status == 422)
            #expect(same.errorCode == "same_incident")
            let merged = try await client.call(
                .post, "/v1/incidents/\(incidentId)/merge", token: staff, json: ["incident_id": second]
            )
            #expect(merged.status == 200, "\(merged.raw)")
            #expect(merged.body["question_count"] as? Int == 11, "\(merged.raw)")
            let gone = try await client.call(.post, "/v1/incidents/\(second)/updates", token: staff, json: ["body": "Hi"])
            #expect(gone.status == 409)
            #expect(gone.errorCode == "incident_merged")

            // Linked by hand: the unrelated question gets the latest update; unlinked, it leaves.
            let link = try await client.call(
                .post, "/v1/incidents/\(incidentId)/questions", token: staff, json: ["question_id": unrelated]
            )
            #expect(link.status == 200, "\(link.raw)")
            #expect(Self.helperMessages(try await Self.detail(client, unrelated, token: staff)) == [text])
            let unlink = try await client.call(.delete, "/v1/incidents/\(incidentId)/questions/\(topUp)", token: staff)
            #expect(unlink.status == 404, "\(unlink.raw)")
            let unlinked = try await client.call(
                .delete, "/v1/incidents/\(incidentId)/questions/\(unrelated)", token: staff
            )
            #expect(unlinked.status == 200, "\(unlinked.raw)")
            #expect(try await Self.detail(client, unrelated, token: staff).raw.contains("incident.unlinked"))

            // Resolved with its questions: every open linked question is resolved with the final message.
            let resolved = try await client.call(
                .post, "/v1/incidents/\(incidentId)/resolve", token: staff,
                json: ["body": "Fixed: restart your phone.", "resolve_questions": true]
            )
            #expect(resolved.status == 200, "\(resolved.raw)")
            #expect(resolved.string("state") == "resolved")
            #expect(resolved.body["open_questions"] as? Int == 0, "\(resolved.raw)")
            let late = try await client.call(.post, "/v1/incidents/\(incidentId)/updates", token: staff, json: ["body": "Hi"])
            #expect(late.status == 409)
            #expect(late.errorCode == "incident_resolved")
            // A new similar question does not join a resolved incident, and is offered the solved ones.
            let after = try await Self.submit(client, "No mobile data since this morning again", token: staff, customer: "c10")
            #expect(!(try await Self.detail(client, after, token: staff)).raw.contains("incident.linked"))
            let similar = try await client.call(.get, "/v1/questions/\(after)/similar", token: staff)
            #expect(similar.status == 200, "\(similar.raw)")
            let offered = similar.body["similar"] as? [[String: Any]] ?? []
            #expect(!offered.isEmpty && offered.count <= 5, "\(similar.raw)")
            #expect(offered.allSatisfy { ($0["answer"] as? [String: Any])?["body"] != nil }, "\(similar.raw)")
            #expect(!similar.raw.contains(unrelated))

            // Refusals: unknown incident, bad cursor, bad limit.
            #expect(try await client.call(.get, "/v1/incidents/inc_nope", token: staff).status == 404)
            #expect(try await client.call(.get, "/v1/incidents?cursor=zzz", token: staff).errorCode == "invalid_cursor")
            #expect(try await client.call(.get, "/v1/incidents?limit=0", token: staff).status == 400)
            // Found by the schema fuzzer: a questions_after longer than any question id was taken.
            let long = String(repeating: "0", count: 201)
            #expect(
                try await client.call(.get, "/v1/incidents/\(incidentId)?questions_after=\(long)", token: staff).errorCode
                    == "invalid_cursor"
            )
        }
    }

    @Test(
        "Attacks: one customer repeating a complaint opens no incident; volunteers are offered no staff-tier answers",
        arguments: Backend.available)
    func attacks(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let (_, staff) = try await env.account("sam", .staff)
            let (_, volunteer) = try await env.account("vera", .volunteer)
            // Six times the same complaint from one customer (a chat user who wants attention) is no surge.
            for subject in Self.outage + ["Mobile data down since this morning"] {
                _ = try await Self.submit(client, subject, token: staff, customer: "the-same-customer")
            }
            #expect(try await Self.incidents(client, token: staff).isEmpty)

            // A solved billing question (staff only) is never offered to a volunteer, though it is similar.
            var billing = questionBody(
                "Refund for double charge on my invoice", body: "I was charged twice for my invoice, please refund."
            )
            billing["topic"] = "billing"
            let solved = try #require(try await client.call(.post, "/v1/questions", token: staff, json: billing).string("id"))
            #expect(
                try await client.call(.post, "/v1/questions/\(solved)/replies", token: staff, json: ["body": "Refunded."])
                    .status == 201
            )
            #expect(try await client.call(.post, "/v1/questions/\(solved)/resolve", token: staff).status == 200)
            let asked = try await Self.submit(
                client, "Refund for double charge on my invoice please", token: staff, customer: "other"
            )
            let forStaff = try await client.call(.get, "/v1/questions/\(asked)/similar", token: staff)
            #expect(forStaff.raw.contains(solved), "\(forStaff.raw)")
            let forVolunteer = try await client.call(.get, "/v1/questions/\(asked)/similar", token: volunteer)
            #expect(!forVolunteer.raw.contains(solved), "\(forVolunteer.raw)")
        }
    }

    @Test(
        "Incident events go out through the outbox: opened, each update as one reply per customer, resolved",
        arguments: Backend.available)
    func outbound(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let (_, admin) = try await env.account("ada", .admin)
            let created = try await client.call(
                .post, "/v1/integrations", token: admin,
                json: [
                    "name": "status-page", "kind": "standard", "outbound_url": "http://127.0.0.1:9/hook", "all_channels": true,
                    "events": ["incident.opened", "incident.updated", "incident.resolved", "question.replied"],
                ]
            )
            #expect(created.status == 201, "\(created.raw)")
            let integration = try #require((created.body["integration"] as? [String: Any])?["id"] as? String)
            for (index, subject) in Self.outage.enumerated() {
                _ = try await Self.submit(client, subject, token: admin, customer: "c\(index)")
            }
            let incidentId = try #require(try await Self.incidents(client, token: admin).first?["id"] as? String)
            #expect(
                try await client.call(.post, "/v1/incidents/\(incidentId)/updates", token: admin, json: ["body": "On it."])
                    .status == 201
            )
            #expect(
                try await client.call(.post, "/v1/incidents/\(incidentId)/resolve", token: admin, json: ["body": "Fixed."])
                    .status == 200
            )
            let list = try await client.call(.get, "/v1/integrations/\(integration)/deliveries?limit=100", token: admin)
            #expect(list.status == 200, "\(list.raw)")
            let types = (list.body["deliveries"] as? [[String: Any]] ?? []).compactMap { $0["event_type"] as? String }
            #expect(types.filter { $0 == "incident.opened" }.count == 1, "\(types)")
            #expect(types.filter { $0 == "incident.updated" }.count == 1, "\(types)")
            #expect(types.filter { $0 == "incident.resolved" }.count == 1, "\(types)")
            // One reply per linked customer for the update, and one per customer for the final message.
            #expect(types.filter { $0 == "question.replied" }.count == 10, "\(types)")
        }
    }

    @Test(
        "Expired signatures are purged with their bands; a solved question's is kept for similar answers",
        arguments: Backend.available)
    func purge(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let (_, staff) = try await env.account("sam", .staff)
            let open = try await Self.submit(client, "No mobile data since this morning", token: staff, customer: "a")
            let solved = try await Self.submit(client, "Mobile data not working this morning", token: staff, customer: "b")
            #expect(try await client.call(.post, "/v1/questions/\(solved)/replies", token: staff, json: ["body": "Restart."]).status == 201)
            #expect(try await client.call(.post, "/v1/questions/\(solved)/resolve", token: staff).status == 200)
            #expect(try await env.store.purgeSignatures(at: env.clock.now(), limit: 10) == 0)
            // Past the retention (4 weeks, a day and the horizon): the open question's signature goes, with its bands.
            // (The running app's hourly purge may do it first when the clock moves: what is left is checked.)
            env.clock.advance(by: SurgePolicy.standard.retention + 60)
            _ = try await env.store.purgeSignatures(at: env.clock.now(), limit: 10)
            #expect(try await env.store.count("SELECT COUNT(*) FROM question_signatures") == 1)
            #expect(try await env.store.signature(questionId: open) == nil)
            let kept = try #require(try await env.store.signature(questionId: solved))
            #expect(try await env.store.solvedCandidates(bands: kept.bands, excluding: "", limit: 5).map(\.id) == [solved])
            // A bands row of the purged question would still be found by its keys: none is left.
            let purgedBands = SimilaritySignature(text: "No mobile data since this morning", stopWords: StopWords(languages: ["en"])).bands
            #expect(
                try await env.store.solvedCandidates(bands: purgedBands, excluding: solved, limit: 5).isEmpty
            )
            // PostgreSQL keeps a row per band; SQLite a document of 32 keys per signature in its band index.
            let bandRows =
                backend == .sqlite ? "SELECT COUNT(*) * 32 FROM signature_band_index" : "SELECT COUNT(*) FROM signature_bands"
            #expect(try await env.store.count(bandRows) == 32)
            // A year after its resolution, the solved one goes too.
            env.clock.advance(by: SurgePolicy.standard.keepSolved)
            _ = try await env.store.purgeSignatures(at: env.clock.now(), limit: 10)
            #expect(try await env.store.count("SELECT COUNT(*) FROM question_signatures") == 0)
            #expect(try await env.store.count(bandRows) == 0)
        }
    }

    @Test("A group as usual for its hour of the week is no surge; far above it is", arguments: Backend.available)
    func baseline(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let (_, staff) = try await env.account("sam", .staff)
            let subjects = [
                "How do I top up my prepaid account", "How can I top up my prepaid balance",
                "Top up my prepaid account how", "Where do I top up my prepaid account",
                "How to top up prepaid account online", "Top up prepaid balance online how do I",
            ]
            // The same hour of each of the past four weeks saw four of these (too few to open an incident then).
            env.clock.advance(by: -4 * 7 * 86400)
            var customer = 0
            for _ in 0..<4 {
                for subject in subjects.prefix(4) {
                    customer += 1
                    _ = try await Self.submit(client, subject, token: staff, customer: "c\(customer)")
                }
                env.clock.advance(by: 7 * 86400)
            }
            #expect(try await Self.incidents(client, token: staff).isEmpty)
            // Six now, about as every week: expected 4, P(6 or more) = 0.21, so no surge.
            for subject in subjects {
                customer += 1
                _ = try await Self.submit(client, subject, token: staff, customer: "c\(customer)")
            }
            #expect(try await Self.incidents(client, token: staff).isEmpty)
            // Far more than usual: a surge against an expectation of 4 (at about 14 questions).
            for round in 0..<3 {
                for subject in subjects {
                    customer += 1
                    _ = try await Self.submit(
                        client, subject + " \(["today", "now", "please"][round])", token: staff, customer: "c\(customer)")
                }
            }
            let incidents = try await Self.incidents(client, token: staff)
            #expect(incidents.count == 1, "\(incidents)")
            let expected = try #require(incidents.first?["expected"] as? Double)
            #expect(expected >= 3, "\(incidents)")
            #expect((incidents.first?["observed"] as? Int ?? 0) >= 12, "\(incidents)")
        }
    }

    /// Rewordings d1 to d8 of scripts/incidents/mix.json: d1 and d4 become one group, d2 and d3 another; d8 is like
    /// both, d7 only like d4.
    static let rewordings: [Int: (String, String)] = [
        1: (
            "Kein mobiles Internet seit heute Morgen",
            "Seit heute Morgen habe ich kein mobiles Internet mehr. WLAN geht, aber unterwegs lädt keine Seite. Ist das eine Störung?"
        ),
        2: (
            "Mobile Daten funktionieren nicht mehr",
            "Meine mobilen Daten funktionieren seit heute früh nicht mehr. Das Handy zeigt LTE an, aber kein Internet. Neustart hat nichts gebracht."
        ),
        3: (
            "Seit heute früh kein Netz für mobile Daten",
            "Telefonieren geht, aber mobile Daten gehen nicht. Kein Internet am Handy seit heute früh. Gibt es eine Störung?"
        ),
        4: (
            "Störung mobiles Internet?",
            "Hallo, gibt es gerade eine Störung? Mein mobiles Internet geht seit heute Morgen nicht, in ganz Berlin. WLAN funktioniert."
        ),
        7: (
            "Mobiles Internet tot",
            "Mobiles Internet geht überhaupt nicht mehr, seit ca. 7 Uhr. Meine Frau hat das gleiche Problem. Störung?"
        ),
        8: (
            "LTE verbunden aber kein Internet",
            "Das Handy ist mit LTE verbunden, aber mobile Daten funktionieren nicht. Kein Internet seit heute Morgen. Was ist los?"
        ),
    ]

    static func ask(_ client: any TestClientProtocol, _ key: Int, token: String) async throws -> String {
        let (subject, text) = try #require(rewordings[key])
        var body = questionBody(subject, body: text)
        body["language"] = "de"
        body["customer"] = ["id": "c\(key)", "name": "Kim"]
        let response = try await client.call(.post, "/v1/questions", token: token, json: body)
        #expect(response.status == 201, "\(response.raw)")
        return try #require(response.string("id"), "\(response.raw)")
    }

    actor Finished {
        var keys: Set<Int> = []
        func add(_ key: Int) { keys.insert(key) }
    }

    // Found by scripts/incidents.sh in CI: on PostgreSQL a question joining one of the groups while another
    // intake opened an incident over them (having read the members before it was written) was linked to nothing,
    // because a group too small on its own was neither locked nor checked for an incident.
    @Test(
        "A question joining a group while another intake opens an incident over it is linked to that incident",
        .enabled(if: PostgresTestServer.available)
    )
    func joinWhileOpening() async throws {
        try await withAPI(backend: .postgres) { env, client in
            let (_, staff) = try await env.account("sam", .staff)
            for key in 1...4 { _ = try await Self.ask(client, key, token: staff) }
            #expect(try await Self.incidents(client, token: staff).isEmpty)
            let finished = Finished()
            // d8 makes five customers over both groups and opens the incident; it is held before it links them (an
            // incident_questions row needs a lock the held transaction conflicts with), while d7 joins d4's group.
            let (opener, late) = try await env.holdingPostgresTransaction([
                "LOCK TABLE incident_questions IN SHARE MODE"
            ]) {
                let opener = Task {
                    let id = try await Self.ask(client, 8, token: staff)
                    await finished.add(8)
                    return id
                }
                try await Task.sleep(for: .milliseconds(500))
                let late = Task { try await Self.ask(client, 7, token: staff) }
                try await Task.sleep(for: .seconds(1))
                #expect(await !finished.keys.contains(8), "the opener was not held: the test proves nothing")
                return (opener, late)
            }
            let openerId = try await opener.value
            let lateId = try await late.value
            let incidents = try await Self.incidents(client, token: staff)
            #expect(incidents.count == 1)
            let incidentId = try #require(incidents.first?["id"] as? String)
            let shown = try await client.call(.get, "/v1/incidents/\(incidentId)", token: staff)
            let linked = Set((shown.body["questions"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            #expect(linked.isSuperset(of: [openerId, lateId]), "\(shown.raw)")
        }
    }
}
