import Foundation
import PatenCore
import PatenTestSupport
import Testing

@Suite("Intake classification and routing")
struct IntakeClassifierTests {
    let classifier: IntakeClassifier
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    init() throws {
        classifier = IntakeClassifier(policy: try defaultPolicy())
    }

    func classify(
        _ subject: String, _ body: String = "", topic: String? = nil, language: String? = nil,
        priority: String? = nil
    ) throws -> Classification {
        try classifier.classify(subject: subject, body: body, topic: topic, language: language, priority: priority)
    }

    @Test("A question about a SIM goes to the volunteer pool with the normal peer window")
    func volunteerRouting() throws {
        let classification = try classify("My new SIM won't activate", "It says PUK required")
        #expect(classification == Classification(topic: "sim_activation", language: "en", priority: .normal))
        let decision = classifier.route(classification, at: now)
        #expect(decision.tier == .volunteer)
        #expect(decision.reason == .peerPool)
        #expect(decision.peerDeadline == now.addingTimeInterval(2 * 3600))
    }

    @Test("Staff-only topics go to staff with no peer window")
    func staffOnlyTopic() throws {
        let classification = try classify("Wrong invoice", "I was charged twice this month")
        #expect(classification.topic == "billing")
        let decision = classifier.route(classification, at: now)
        #expect(decision == RoutingDecision(tier: .staff, reason: .staffOnlyTopic, peerDeadline: nil))
    }

    @Test("A critical keyword makes the question critical and sends it to staff, whatever priority was stated")
    func criticalKeyword() throws {
        let classification = try classify("Roaming question", "Also I think my phone was stolen", priority: "low")
        #expect(classification.priority == .critical)
        #expect(classifier.route(classification, at: now).reason == .criticalPriority)
        #expect(classifier.route(classification, at: now).tier == .staff)
    }

    @Test("Stated topic, language and priority are used when valid")
    func statedValues() throws {
        let classification = try classify("Hallo", topic: "roaming", language: "de", priority: "high")
        #expect(classification == Classification(topic: "roaming", language: "de", priority: .high))
        #expect(classifier.route(classification, at: now).peerDeadline == now.addingTimeInterval(30 * 60))
    }

    @Test("Keywords match whole words only, so 'simple' is not about SIMs")
    func wholeWords() throws {
        #expect(try classify("A simple question", "nothing special").topic == "general")
        #expect(try classify("Need my PAC code", "keep my number please").topic == "porting")
        // A phrase matches only as consecutive whole words, wherever it starts, across punctuation and case.
        #expect(try classify("Question", "my number, keep it? I need to KEEP... my number!").topic == "porting")
        #expect(try classify("Question", "keep my numbers").topic == "general")
        #expect(try classify("Question", "keep my").topic == "general")
        #expect(try classify("Question", "I was charged twice: refund please").topic == "billing")
        // Text with letters beyond ASCII takes the Unicode path and finds the same words.
        #expect(try classify("Grüße aus Spanien", "Über Nacht: EU-ROAMING geht nicht").topic == "roaming")
        #expect(try classify("Frage", "Ich möchte meine Nummer behalten, KEEP MY NUMBER").topic == "porting")
    }

    @Test("Unknown topic, language or priority is a 422 with a code that says which")
    func invalidStatedValues() throws {
        #expect(throws: PatenError.self) { try classify("x", topic: "astrology") }
        do {
            _ = try classify("x", language: "xx")
            Issue.record("expected an error")
        } catch let error as PatenError {
            #expect(error.kind == .unprocessable)
            #expect(error.code == "unknown_language")
        }
        do {
            _ = try classify("x", priority: "urgent")
            Issue.record("expected an error")
        } catch let error as PatenError {
            #expect(error.code == "invalid_priority")
        }
    }
}
