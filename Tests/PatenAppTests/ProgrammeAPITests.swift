import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PatenApp
import PatenCore
import PatenHTTP
import PatenTestSupport
import Testing

/// The volunteer programme through the API, on both databases: credit, points, levels, badges, topic unlocks, the
/// pause and resume, reversals, the ledger, the leaderboard, payouts and the value report, with their refusals.
@Suite("Volunteer programme API")
struct ProgrammeAPITests {
    /// The built-in policy with small thresholds: helper at 20 points and 1 accepted answer, roaming unlocked at
    /// helper, a pause after 2 low ratings, payouts from 10 points, a daily cap of 12 besides accepted answers, no
    /// first-reply points.
    static func writePolicy(to directory: URL) throws -> String {
        let source = repositoryRoot.appendingPathComponent("Config/policy.json")
        var policy = try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any] ?? [:]
        var programme = policy["programme"] as? [String: Any] ?? [:]
        programme["levels"] = [
            ["id": "newcomer", "points": 0, "accepted": 0], ["id": "helper", "points": 20, "accepted": 1],
            ["id": "expert", "points": 500, "accepted": 10],
        ]
        programme["daily_cap"] = 12
        programme["cap_exempt"] = ["accepted_answer"]
        // No first-reply points: the ratings alone fill the cap.
        programme["points"] = ["accepted_answer": 15, "good_rating": 5, "confirmed_solved": 5, "fast_first_reply": 0]
        programme["pause"] = ["after": 2, "window": "14d", "max_score": 2]
        programme["probation_answers"] = 1
        programme["payout"] = ["min_points": 10, "value_per_point": 0.01, "currency": "EUR"]
        policy["programme"] = programme
        var topics = policy["topics"] as? [[String: Any]] ?? []
        for index in topics.indices where topics[index]["name"] as? String == "roaming" {
            topics[index]["unlock"] = ["level": "helper"]
        }
        policy["topics"] = topics
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("policy.json")
        try JSONSerialization.data(withJSONObject: policy).write(to: path)
        return path.path
    }

    func withProgrammeAPI(
        _ backend: Backend, _ body: @escaping @Sendable (TestEnvironment, any TestClientProtocol) async throws -> Void
    ) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("paten-policy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try Self.writePolicy(to: folder)
        try await withTestEnvironment(backend: backend, configure: { $0.policyPath = path }) { env in
            var logger = Logger(label: "paten-test")
            logger.logLevel = .critical
            let app = buildApplication(env.runtime, logger: logger)
            try await app.test(.router) { client in try await body(env, client) }
        }
    }

    /// Submits, claims, replies; returns the question id and the reply's message id.
    static func answered(
        _ env: TestEnvironment, _ client: any TestClientProtocol, staff: String, volunteer: String,
        topic: String = "device", customer: String = "cust-1"
    ) async throws -> (question: String, reply: String) {
        var body = questionBody("Phone settings", body: "How do I set up voicemail?")
        body["topic"] = topic
        body["customer"] = ["id": customer, "name": "Ann"]
        let submitted = try await client.call(.post, "/v1/questions", token: staff, json: body)
        let id = try #require(submitted.string("id"), "\(submitted.raw)")
        let claimed = try await client.call(.post, "/v1/questions/\(id)/claim", token: volunteer)
        #expect(claimed.status == 200, "\(claimed.raw)")
        let reply = try await client.call(.post, "/v1/questions/\(id)/replies", token: volunteer, json: ["body": "Try this."])
        let message = try #require((reply.body["message"] as? [String: Any])?["id"] as? String, "\(reply.raw)")
        return (id, message)
    }

    /// The rating link's token, as staff see it on the question.
    static func ratingToken(_ client: any TestClientProtocol, _ id: String, staff: String) async throws -> String {
        let detail = try await client.call(.get, "/v1/questions/\(id)", token: staff)
        let url = try #require(detail.string("rating_url"), "\(detail.raw)")
        return String(try #require(url.split(separator: "/").last))
    }

    @Test(
        "Credit, points, a badge, a level-up that unlocks a topic, a rating, a reversal, the ledger and leaderboard",
        arguments: Backend.available)
    func programmeFlow(backend: Backend) async throws {
        try await withProgrammeAPI(backend) { env, client in
            let (_, staff) = try await env.account("sam", .staff)
            let (vera, volunteer) = try await env.account("vera", .volunteer)

            // A locked topic's question is not in the queue and cannot be claimed.
            var roamingBody = questionBody("Roaming in Spain", body: "No signal abroad.")
            roamingBody["topic"] = "roaming"
            let roaming = try #require(try await client.call(.post, "/v1/questions", token: staff, json: roamingBody).string("id"))
            let queue = try await client.call(.get, "/v1/queue", token: volunteer)
            #expect(!queue.raw.contains(roaming))
            let locked = try await client.call(.post, "/v1/questions/\(roaming)/claim", token: volunteer)
            #expect(locked.status == 403)
            #expect(locked.errorCode == "topic_locked")

            let (question, reply) = try await Self.answered(env, client, staff: staff, volunteer: volunteer)
            // The named answer must be a helper reply on this question.
            let detail = try await client.call(.get, "/v1/questions/\(question)", token: staff)
            let messages = try #require(detail.body["messages"] as? [[String: Any]])
            let customerMessage = try #require(messages.first { $0["author_kind"] as? String == "customer" }?["id"] as? String)
            let wrong = try await client.call(
                .post, "/v1/questions/\(question)/resolve", token: volunteer, json: ["answer_id": customerMessage]
            )
            #expect(wrong.status == 422)
            #expect(wrong.errorCode == "invalid_answer")
            // The refusal wrote nothing: the question is still held, uncredited.
            let untouched = try await client.call(.get, "/v1/questions/\(question)", token: staff)
            #expect((untouched.body["question"] as? [String: Any])?["state"] as? String == "claimed", "\(untouched.raw)")
            #expect(!untouched.raw.contains("question.resolved"))
            let resolved = try await client.call(
                .post, "/v1/questions/\(question)/resolve", token: volunteer, json: ["answer_id": reply]
            )
            #expect(resolved.status == 200, "\(resolved.raw)")

            // 15 for the answer, 10 for the first-answer badge; level helper (20 and 1); a probation review.
            let mine = try await client.call(.get, "/v1/me/programme", token: volunteer)
            #expect(mine.status == 200, "\(mine.raw)")
            let points = try #require(mine.body["points"] as? [String: Any])
            #expect(points["total"] as? Int == 25, "\(mine.raw)")
            #expect(mine.string("level") == "helper")
            #expect(mine.body["badges"] as? [String] == ["first_answer"])
            #expect((mine.body["unlocked_topics"] as? [String])?.contains("roaming") == true)
            let escalations = try await client.call(.get, "/v1/escalations?state=open", token: staff)
            #expect(escalations.raw.contains("probation_review"))
            let timeline = try await client.call(.get, "/v1/questions/\(question)", token: staff)
            #expect(timeline.raw.contains("helper.level_changed"))
            #expect(timeline.raw.contains("helper.badge_awarded"))

            // Unlocked now: the roaming question can be claimed.
            #expect(try await client.call(.post, "/v1/questions/\(roaming)/claim", token: volunteer).status == 200)

            // The customer rates 5 and confirms: 5 + 5, within the daily cap of 12.
            let token = try await Self.ratingToken(client, question, staff: staff)
            let rated = try await client.call(.post, "/v1/ratings/\(token)", json: ["score": 5, "solved": true])
            #expect(rated.status == 201, "\(rated.raw)")
            #expect(rated.body["solved"] as? Bool == true)
            let ledger = try await client.call(.get, "/v1/programme/ledger?helper=\(vera.id)", token: staff)
            let reasons = (ledger.body["entries"] as? [[String: Any]] ?? []).map { "\($0["reason"] ?? "") \($0["amount"] ?? "")" }
            #expect(reasons.contains("accepted_answer 15"), "\(reasons)")
            #expect(reasons.contains("badge 10"))
            // Capped reasons (first reply, good rating, solved) never pass 12 in the day.
            let capped = (ledger.body["entries"] as? [[String: Any]] ?? []).filter {
                ["fast_first_reply", "good_rating", "confirmed_solved"].contains($0["reason"] as? String ?? "")
            }.reduce(0) { $0 + ($1["amount"] as? Int ?? 0) }
            #expect(capped == 10, "\(reasons)")

            // Reopened: the answer's and the solution's points are taken back, in new rows; the rating's stay.
            #expect(try await client.call(.post, "/v1/questions/\(question)/reopen", token: staff).status == 200)
            let after = try await client.call(.get, "/v1/programme/ledger?helper=\(vera.id)&format=csv", token: staff)
            #expect(after.raw.contains(",-15,accepted_answer_reversed,"), "\(after.raw)")
            #expect(after.raw.contains("confirmed_solved_reversed"))
            #expect(after.raw.hasPrefix("seq,id,helper_id,handle,amount,reason,question_id,topic,payout_id,at\r\n"))

            // Volunteers see the leaderboard (handles and points); they cannot read the ledger of others.
            let board = try await client.call(.get, "/v1/programme/leaderboard?period=all", token: volunteer)
            #expect((board.body["entries"] as? [[String: Any]])?.first?["handle"] as? String == "vera", "\(board.raw)")
            #expect(!board.raw.contains(vera.id))
            #expect(try await client.call(.get, "/v1/programme/ledger", token: volunteer).errorCode == "forbidden_role")
            #expect(try await client.call(.get, "/v1/programme/leaderboard?period=year", token: volunteer).status == 400)
            #expect(try await client.call(.get, "/v1/programme/leaderboard?topic=nope", token: volunteer).errorCode == "unknown_topic")

            // Staff grant and revoke topics; an unknown topic is refused.
            let unknown = try await client.call(
                .post, "/v1/helpers/\(vera.id)/topics", token: staff, json: ["topic": "astrology", "access": "grant"]
            )
            #expect(unknown.errorCode == "unknown_topic")
            let revoked = try await client.call(
                .post, "/v1/helpers/\(vera.id)/topics", token: staff, json: ["topic": "porting", "access": "revoke"]
            )
            #expect((revoked.body["locked_topics"] as? [String])?.contains("porting") == true, "\(revoked.raw)")
            #expect(
                try await client.call(
                    .post, "/v1/helpers/\(vera.id)/topics", token: volunteer, json: ["topic": "porting", "access": "grant"]
                ).status
                    == 403
            )

            // The export carries the credit and the points.
            let rows = try await env.store.metricsRows(from: .distantPast, to: .distantFuture, after: nil, limit: 10)
            #expect(rows.contains { $0.id == question && $0.points > 0 })
        }
    }

    @Test(
        "Two low ratings pause a volunteer: presence paused, held questions back in the pool, staff told; resume",
        arguments: Backend.available)
    func pauseAndResume(backend: Backend) async throws {
        try await withProgrammeAPI(backend) { env, client in
            let (_, staff) = try await env.account("sam", .staff)
            let (olga, volunteer) = try await env.account("olga", .volunteer)
            for index in 0..<2 {
                let (question, _) = try await Self.answered(
                    env, client, staff: staff, volunteer: volunteer, customer: "cust-\(index)"
                )
                #expect(try await client.call(.post, "/v1/questions/\(question)/resolve", token: volunteer).status == 200)
                let token = try await Self.ratingToken(client, question, staff: staff)
                if index == 1 {
                    // She holds another question when the second low rating lands.
                    var body = questionBody("Voicemail", body: "Voicemail is off.")
                    body["topic"] = "device"
                    let held = try #require(try await client.call(.post, "/v1/questions", token: staff, json: body).string("id"))
                    #expect(try await client.call(.post, "/v1/questions/\(held)/claim", token: volunteer).status == 200)
                    #expect(try await client.call(.post, "/v1/ratings/\(token)", json: ["score": 1, "solved": false]).status == 201)
                    let back = try await client.call(.get, "/v1/questions/\(held)", token: staff)
                    #expect((back.body["question"] as? [String: Any])?["state"] as? String == "open", "\(back.raw)")
                } else {
                    #expect(try await client.call(.post, "/v1/ratings/\(token)", json: ["score": 2]).status == 201)
                }
            }
            let me = try await client.call(.get, "/v1/me", token: volunteer)
            #expect(me.string("presence") == "paused", "\(me.raw)")
            let programme = try await client.call(.get, "/v1/helpers/\(olga.id)/programme", token: staff)
            #expect(programme.body["paused"] as? Bool == true)
            #expect((try await client.call(.get, "/v1/queue", token: volunteer).body["questions"] as? [Any])?.isEmpty == true)
            var body = questionBody("Voicemail", body: "Another one.")
            body["topic"] = "device"
            let next = try #require(try await client.call(.post, "/v1/questions", token: staff, json: body).string("id"))
            let refused = try await client.call(.post, "/v1/questions/\(next)/claim", token: volunteer)
            #expect(refused.errorCode == "helper_paused")
            let escalations = try await client.call(.get, "/v1/escalations", token: staff)
            #expect(escalations.raw.contains("volunteer_paused"))
            // A volunteer cannot set paused nor lift it.
            #expect(try await client.call(.put, "/v1/me/presence", token: volunteer, json: ["presence": "available"]).status == 200)
            #expect(
                try await client.call(.put, "/v1/me/presence", token: volunteer, json: ["presence": "paused"]).errorCode
                    == "invalid_presence")
            #expect(try await client.call(.post, "/v1/helpers/\(olga.id)/resume", token: volunteer, json: ["note": "me"]).status == 403)
            #expect(
                try await client.call(.post, "/v1/helpers/\(olga.id)/resume", token: staff, json: ["note": " "]).errorCode
                    == "note_required")
            let resumed = try await client.call(
                .post, "/v1/helpers/\(olga.id)/resume", token: staff, json: ["note": "Talked it through."]
            )
            #expect(resumed.body["paused"] as? Bool == false, "\(resumed.raw)")
            #expect(
                try await client.call(.post, "/v1/helpers/\(olga.id)/resume", token: staff, json: ["note": "again"]).errorCode
                    == "not_paused")
            #expect(try await client.call(.post, "/v1/questions/\(next)/claim", token: volunteer).status == 200)
        }
    }

    @Test("Quiet hours and the weekly budget: set, shown, and refused claims; bad values are 422", arguments: Backend.available)
    func protection(backend: Backend) async throws {
        try await withProgrammeAPI(backend) { env, client in
            let (_, staff) = try await env.account("sam", .staff)
            let (vic, volunteer) = try await env.account("vic", .volunteer)
            #expect(
                try await client.call(.patch, "/v1/me/programme", token: volunteer, json: ["time_zone": "Mars/Base"]).errorCode
                    == "invalid_time_zone")
            // Integration accounts take no part, whichever way they ask.
            let integration = try await env.account("bridge", .integration).token
            #expect(try await client.call(.get, "/v1/me/programme", token: integration).errorCode == "role_has_no_programme")
            #expect(try await client.call(.patch, "/v1/me/programme", token: integration, json: ["time_zone": "UTC"]).status == 403)
            #expect(try await client.call(.get, "/v1/programme/leaderboard", token: integration).status == 403)
            #expect(
                try await client.call(
                    .patch, "/v1/me/programme", token: volunteer, json: ["quiet_hours": ["start": "25:00", "end": "07:00"]]
                ).errorCode
                    == "invalid_quiet_hours"
            )
            // Quiet all day but one minute: every claim now is refused, and the queue is empty.
            let now = env.clock.now()
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let parts = calendar.dateComponents([.hour, .minute], from: now)
            let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
            let end = (minute + 1439) % 1440
            let set = try await client.call(
                .patch, "/v1/me/programme", token: volunteer,
                json: ["time_zone": "UTC", "quiet_hours": ["start": QuietHours.text(minute), "end": QuietHours.text(end)]]
            )
            #expect(set.body["in_quiet_hours"] as? Bool == true, "\(set.raw)")
            var body = questionBody("Voicemail", body: "Voicemail is off.")
            body["topic"] = "device"
            let question = try #require(try await client.call(.post, "/v1/questions", token: staff, json: body).string("id"))
            #expect(try await client.call(.post, "/v1/questions/\(question)/claim", token: volunteer).errorCode == "quiet_hours")
            #expect((try await client.call(.get, "/v1/queue", token: volunteer).body["questions"] as? [Any])?.isEmpty == true)
            let cleared = try await client.call(.patch, "/v1/me/programme", token: volunteer, json: ["quiet_hours": NSNull()])
            #expect(cleared.body["quiet_hours"] == nil, "\(cleared.raw)")

            // A budget of one claim a week: the second claim is refused until Monday.
            #expect(
                try await client.call(.patch, "/v1/helpers/\(vic.id)/programme", token: volunteer, json: ["weekly_claims": 1]).status == 403
            )
            #expect(
                try await client.call(.patch, "/v1/helpers/\(vic.id)/programme", token: staff, json: ["weekly_claims": -1]).errorCode
                    == "invalid_budget")
            let budget = try await client.call(.patch, "/v1/helpers/\(vic.id)/programme", token: staff, json: ["weekly_claims": 1])
            #expect((budget.body["budget"] as? [String: Any])?["claims_left"] as? Int == 1, "\(budget.raw)")
            #expect(try await client.call(.post, "/v1/questions/\(question)/claim", token: volunteer).status == 200)
            #expect(try await client.call(.post, "/v1/questions/\(question)/release", token: volunteer).status == 200)
            let spent = try await client.call(.post, "/v1/questions/\(question)/claim", token: volunteer)
            #expect(spent.status == 409)
            #expect(spent.errorCode == "weekly_budget_reached")
        }
    }

    @Test(
        "Payouts: booked once per period, overlapping and future periods refused, the CSV file, the value report",
        arguments: Backend.available)
    func payouts(backend: Backend) async throws {
        try await withProgrammeAPI(backend) { env, client in
            let admin = try await env.account("ada", .admin).token
            let (_, staff) = try await env.account("sam", .staff)
            let (_, volunteer) = try await env.account("vera", .volunteer)
            let (question, _) = try await Self.answered(env, client, staff: staff, volunteer: volunteer)
            #expect(try await client.call(.post, "/v1/questions/\(question)/resolve", token: volunteer).status == 200)
            env.clock.advance(by: 3600)
            let end = APICoding.format(env.clock.now().addingTimeInterval(-60))
            #expect(try await client.call(.post, "/v1/programme/payouts", token: staff, json: ["period_end": end]).status == 403)
            let future = try await client.call(
                .post, "/v1/programme/payouts", token: admin, json: ["period_end": APICoding.format(env.clock.now().addingTimeInterval(60))]
            )
            #expect(future.errorCode == "period_in_future")
            #expect(
                try await client.call(.post, "/v1/programme/payouts", token: admin, json: ["period_end": "soon"]).errorCode
                    == "invalid_period_end")
            // Two bookings at once: one batch.
            async let first = client.call(.post, "/v1/programme/payouts", token: admin, json: ["period_end": end])
            async let second = client.call(.post, "/v1/programme/payouts", token: admin, json: ["period_end": end])
            let (one, two) = try await (first, second)
            #expect(Set([one.status, two.status]) == [200, 201], "\(one.raw) \(two.raw)")
            #expect(one.string("id") == two.string("id"))
            let id = try #require(one.string("id"))
            let lines = try #require(one.body["lines"] as? [[String: Any]])
            #expect(lines.count == 1)
            #expect(lines.first?["handle"] as? String == "vera")
            let paid = lines.first?["points"] as? Int ?? 0
            #expect(paid == 25)
            let earlier = try await client.call(
                .post, "/v1/programme/payouts", token: admin,
                json: ["period_end": APICoding.format(env.clock.now().addingTimeInterval(-120))]
            )
            #expect(earlier.errorCode == "payout_period_overlaps")
            let file = try await client.call(.get, "/v1/programme/payouts/\(id)?format=csv", token: staff)
            #expect(file.raw.hasPrefix("helper_id,handle,points,amount,currency\r\n"), "\(file.raw)")
            #expect(file.raw.contains(",vera,\(paid),"))
            #expect(file.raw.contains(",EUR\r\n"))
            // Paid out: the balance is zero, what was earned stays (and so does the level).
            let programme = try await client.call(.get, "/v1/me/programme", token: volunteer)
            #expect((programme.body["points"] as? [String: Any])?["balance"] as? Int == 0, "\(programme.raw)")
            #expect((programme.body["points"] as? [String: Any])?["total"] as? Int == paid)
            #expect(programme.string("level") == "helper")
            // A later period pays nothing twice.
            env.clock.advance(by: 60)
            let next = try await client.call(
                .post, "/v1/programme/payouts", token: admin, json: ["period_end": APICoding.format(env.clock.now())]
            )
            #expect(next.status == 201)
            #expect((next.body["lines"] as? [Any])?.isEmpty == true, "\(next.raw)")

            let value = try await client.call(.get, "/v1/programme/value", token: staff)
            #expect(value.status == 200, "\(value.raw)")
            let month = try #require((value.body["months"] as? [[String: Any]])?.first)
            #expect(month["resolved_without_staff"] as? Int == 1)
            #expect(month["points_paid"] as? Int == paid)
            #expect(try await client.call(.get, "/v1/programme/value", token: volunteer).status == 403)
            let csv = try await client.call(.get, "/v1/programme/value?format=csv", token: staff)
            #expect(csv.raw.hasPrefix("month,resolved,resolved_without_staff,"))
        }
    }

    @Test("Concurrent good ratings never pass the daily cap", arguments: Backend.available)
    func dailyCapUnderConcurrency(backend: Backend) async throws {
        try await withProgrammeAPI(backend) { env, client in
            let (_, staff) = try await env.account("sam", .staff)
            let (vera, volunteer) = try await env.account("vera", .volunteer, capacity: 10)
            // Six answers rated at once, each worth 10 capped points: together they may book 12, not one more.
            var tokens: [String] = []
            for index in 0..<6 {
                let (question, _) = try await Self.answered(
                    env, client, staff: staff, volunteer: volunteer, customer: "cust-\(index)"
                )
                #expect(try await client.call(.post, "/v1/questions/\(question)/resolve", token: volunteer).status == 200)
                tokens.append(try await Self.ratingToken(client, question, staff: staff))
            }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for token in tokens {
                    group.addTask { try await client.call(.post, "/v1/ratings/\(token)", json: ["score": 5, "solved": true]).status }
                }
                for try await status in group { #expect(status == 201) }
            }
            let ledger = try await env.runtime.programme.ledger(
                helperId: vera.id, from: nil, to: nil, after: 0, limit: 1000, for: try #require(try await env.store.helper(handle: "sam"))
            )
            let capped = ledger.filter { ProgrammeRules.cappedReasons(env.runtime.policy.programme).contains($0.entry.reason) }
            #expect(capped.reduce(0) { $0 + $1.entry.amount } == 12, "\(ledger.map { "\($0.entry.reason) \($0.entry.amount)" })")
        }
    }
}
