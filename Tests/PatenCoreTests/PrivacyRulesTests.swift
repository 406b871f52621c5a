import Foundation
import PatenCore
import PatenTestSupport
import Testing

/// Redaction as the pure rules it is: which texts go, how JSON documents are rewritten, what the command changes.
@Suite("Privacy rules")
struct PrivacyRulesTests {
    let at = Date(millisecondsSince1970: 1_795_000_000_000)

    @Test("A redaction erases its texts and their masked forms, whole; subjects name incident titles")
    func texts() {
        let redaction = Redaction(
            reason: .erasure, at: at, subject: "Call me on +44 7700 900123 tonight",
            texts: ["c1", "  ", Tombstone.text, "c1", " resolved "]
        )
        #expect(redaction.texts.contains("Call me on [phone hidden] tonight"))
        #expect(!redaction.texts.contains(""))
        #expect(!redaction.texts.contains(Tombstone.text))
        #expect(redaction.isErased("c1"))
        #expect(redaction.isErased("resolved"))
        #expect(!redaction.isErased("abc1def"))
        #expect(!redaction.isErased("She said: Call me on [phone hidden] tonight!"))
        #expect(redaction.subjects == ["Call me on +44 7700 900123 tonight", "Call me on [phone hidden] tonight"])
    }

    @Test("JSON documents: text keys, customers and erased values become tombstones; facts stay; unchanged is nil")
    func json() throws {
        // The customer's follow-ups said only "resolved" and "2": facts with those values must stay.
        let redaction = Redaction(
            reason: .retention, at: at, subject: "My eSIM fails", texts: ["Ann Example", "cust-42", "resolved", "2"]
        )
        let payload = #"""
            {"type":"question.resolved","data":{"subject":"My eSIM fails","customer":{"id":"c-other","name":"Ann"},
            "conversation_id":"conv-447700","state":"resolved","message":{"id":"m_1","author":"customer","body":"hi"},
            "details":{"note":"Ann Example again","topic":"sim","level":"2","score":"2","extra":"cust-42",
            "free":"not erased: cust-42 inside"},"list":["Ann Example","keep"],"count":3,"flag":true,"empty":null}}
            """#
        let rewritten = try #require(redaction.redact(json: payload))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(rewritten.utf8)) as? [String: Any])
        let data = try #require(object["data"] as? [String: Any])
        let details = try #require(data["details"] as? [String: Any])
        #expect(object["type"] as? String == "question.resolved")
        #expect(data["state"] as? String == "resolved")
        #expect(data["subject"] as? String == Tombstone.text)
        #expect(data["conversation_id"] as? String == Tombstone.text)
        #expect((data["customer"] as? [String: Any])?["id"] as? String == Tombstone.text)
        #expect((data["customer"] as? [String: Any])?["name"] as? String == Tombstone.text)
        #expect((data["message"] as? [String: Any])?["body"] as? String == Tombstone.text)
        #expect((data["message"] as? [String: Any])?["id"] as? String == "m_1")
        #expect((data["message"] as? [String: Any])?["author"] as? String == "customer")
        #expect(details["note"] as? String == Tombstone.text)
        #expect(details["topic"] as? String == "sim")
        #expect(details["level"] as? String == "2")
        #expect(details["score"] as? String == "2")
        #expect(details["extra"] as? String == Tombstone.text)
        #expect(details["free"] as? String == "not erased: cust-42 inside")
        #expect(data["list"] as? [String] == [Tombstone.text, "keep"])
        #expect(data["count"] as? Int == 3)
        #expect(data["flag"] as? Bool == true)
        #expect(redaction.redact(json: rewritten) == nil)
        #expect(redaction.redact(json: #"{"topic":"sim"}"#) == nil)
        #expect(redaction.redact(json: "not json") == nil)
    }

    @Test("The command tombstones subject and customer, keeps state, times and tallies, and is idempotent")
    func command() throws {
        let policy = try PolicyLoader.parse(
            Data(contentsOf: repositoryRoot.appendingPathComponent("Config/policy.json")), source: "policy.json"
        )
        let context = ChangeContext(now: at, planner: SLAPlanner(policy: policy), ids: SequentialIds())
        let question = PatenCore.Question(
            id: "q_1", subject: "Roaming abroad", customer: Customer(id: "c_1", name: "Ada"), channel: "api",
            topic: "general", language: "en", priority: .normal, tier: .volunteer, state: .resolved,
            firstResponseAt: at.addingTimeInterval(-600), resolvedAt: at.addingTimeInterval(-60), createdBy: "h_1",
            createdAt: at.addingTimeInterval(-3600), updatedAt: at.addingTimeInterval(-60)
        )
        var snapshot = QuestionSnapshot(
            record: QuestionRecord(question: question, tallies: QuestionTallies(staffReplies: 1, creditedHelperId: "h_2"))
        )
        snapshot.texts = ["Please help with roaming", "Thanks"]
        let change = QuestionCommands.redact(snapshot, reason: .erasure, context: context)
        #expect(change.question.subject == Tombstone.text)
        #expect(change.question.customer == Customer(id: Tombstone.text, name: Tombstone.text))
        #expect(change.question.state == .resolved)
        #expect(change.question.firstResponseAt == question.firstResponseAt)
        #expect(change.question.updatedAt == question.updatedAt)
        #expect(change.record.tallies == snapshot.record.tallies)
        let effect = try #require(change.effects.first)
        guard case QuestionEffect.redact(let redaction) = effect, change.effects.count == 1 else {
            Issue.record("expected one redact effect, got \(change.effects)")
            return
        }
        #expect(redaction.reason == .erasure)
        let expected: Set<String> = ["Roaming abroad", "c_1", "Ada", "Please help with roaming", "Thanks"]
        #expect(expected.isSubset(of: redaction.texts))
        #expect(redaction.subjects.contains("Roaming abroad"))
        let again = QuestionCommands.redact(QuestionSnapshot(record: change.record), reason: .retention, context: context)
        #expect(again.effects.isEmpty)
        #expect(!again.writesRow)
    }

    @Test("A redacted question takes no new words: replies and escalations refused, notes and comments dropped")
    func afterRedaction() throws {
        let policy = try PolicyLoader.parse(
            Data(contentsOf: repositoryRoot.appendingPathComponent("Config/policy.json")), source: "policy.json"
        )
        let context = ChangeContext(now: at, planner: SLAPlanner(policy: policy), ids: SequentialIds())
        let staff = Helper(
            id: "h_s", handle: "sam", displayName: "Sam", role: .staff, skills: [], languages: ["en"], capacity: 3,
            presence: .available, active: true, createdAt: at, updatedAt: at
        )
        let question = PatenCore.Question(
            id: "q_1", subject: Tombstone.text, customer: Customer(id: Tombstone.text, name: Tombstone.text),
            channel: "api", topic: "general", language: "en", priority: .normal, tier: .staff, state: .open,
            createdBy: "h_1", createdAt: at.addingTimeInterval(-3600), updatedAt: at.addingTimeInterval(-60)
        )
        let snapshot = QuestionSnapshot(record: QuestionRecord(question: question))
        let reply = #expect(throws: PatenError.self) {
            _ = try QuestionCommands.reply(
                snapshot, by: staff, messageId: "m_9", body: "Hello Zelda", lease: 600, context: context
            )
        }
        #expect(reply?.code == "question_redacted")
        let escalation = #expect(throws: PatenError.self) {
            _ = try QuestionCommands.escalate(snapshot, by: staff, level: 1, note: "About Zelda", context: context)
        }
        #expect(escalation?.code == "question_redacted")
        let resolved = try QuestionCommands.resolve(
            snapshot, by: staff, note: "Zelda was happy", rating: nil, context: context
        )
        #expect(resolved.events.first { $0.type == .resolved }?.data["note"] == Tombstone.text)
        var resolvedQuestion = question
        resolvedQuestion.state = .resolved
        let rated = try QuestionCommands.rate(
            QuestionSnapshot(record: QuestionRecord(question: resolvedQuestion)),
            rating: StoredRating(
                questionId: "q_1", expiresAt: at.addingTimeInterval(60), helperId: nil, helperTier: nil, score: nil
            ),
            score: 4, comment: "My IBAN is DE89 3704 0044 0532 0130 00", context: context
        )
        #expect(rated.effects.contains(.recordScore(score: 4, comment: nil, solved: nil, at: at)))
    }

    @Test("retention.resolved_days: default 365, validated with a message naming the key")
    func policy() throws {
        let base =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: repositoryRoot.appendingPathComponent("Config/policy.json"))
            ) as? [String: Any] ?? [:]
        func load(_ retention: Any?) throws -> Policy {
            var document = base
            document["retention"] = retention
            return try PolicyLoader.parse(try JSONSerialization.data(withJSONObject: document), source: "test")
        }
        #expect(try load(nil).retention.resolvedDays == 365)
        #expect(try load(["resolved_days": 30]).retention.resolvedDays == 30)
        #expect(try load(["resolved_days": 30]).retention.resolvedBefore(at) == at.addingTimeInterval(-30 * 86_400))
        for bad: Any in [["resolved_days": 0], ["resolved_days": "1y"], ["resolved_days": 40_000], ["days": 3], 5] {
            #expect(throws: PatenError.self) { try load(bad) }
            do {
                _ = try load(bad)
            } catch let error as PatenError {
                #expect(error.message.contains("retention"), "\(error.message)")
            }
        }
    }
}

/// Ids q_1, q_2, ... for rules that make ids.
private struct SequentialIds: IdentifierGenerator {
    func make(_ prefix: String) -> String { "\(prefix)_1" }
}
