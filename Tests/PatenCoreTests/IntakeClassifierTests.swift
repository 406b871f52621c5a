import Foundation
import PatenTestSupport
import Testing

@testable import PatenCore

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

    @Test("The German fraud report from the issue goes to staff, critical, whatever language it is marked")
    func germanFraud() throws {
        for language in [nil, "de", "en", "tr"] {
            let classification = try classify("Betrug? Rechnung doppelt abgebucht", language: language)
            #expect(classification.priority == .critical)
            #expect(["billing", "fraud"].contains(classification.topic))
            #expect(classifier.route(classification, at: now).tier == .staff)
        }
    }

    @Test("A stated topic cannot lower the tier: a billing or fraud text goes to staff under any stated topic")
    func statedTopicCannotLowerTier() throws {
        let billing = try classify("Roaming", "I was charged twice for roaming, I want a refund", topic: "roaming")
        #expect(billing.topic == "billing")
        #expect(classifier.route(billing, at: now) == RoutingDecision(tier: .staff, reason: .staffOnlyTopic, peerDeadline: nil))

        let fraud = try classify("Frage", "Jemand hat mit Phishing meine Zugangsdaten", topic: "roaming", priority: "low")
        #expect(fraud.topic == "fraud" || fraud.topic == "account_security")
        #expect(classifier.route(fraud, at: now).tier == .staff)

        let critical = try classify("Roaming", "Fraud on my account", topic: "roaming", priority: "low")
        #expect(critical.priority == .critical)
        #expect(classifier.route(critical, at: now) == RoutingDecision(tier: .staff, reason: .criticalPriority, peerDeadline: nil))

        // A stated staff-only topic stays, and a stated topic with no staff-only words in the text is kept.
        #expect(try classify("Refund", "fraud", topic: "billing").topic == "billing")
        #expect(try classify("Hallo", "Kein Netz im Urlaub", topic: "device").topic == "device")
    }

    @Test(
        "Table: English and German questions reach the right topic and tier",
        arguments: [
            ("My new eSIM will not activate", "sim_activation", Tier.volunteer),
            ("No data roaming in Spain since Monday", "roaming", .volunteer),
            ("Mobiles Internet geht im Urlaub in Italien nicht", "roaming", .volunteer),
            ("Wie kann ich meine Rufnummernmitnahme starten?", "porting", .volunteer),
            ("My charger is broken", "device", .volunteer),
            ("I ordered scampi and the menu app crashed", "general", .volunteer),
            ("Ist der Tarif wirklich so billig?", "general", .volunteer),
            ("Die Unterschrift im Vertrag ist unleserlich", "general", .volunteer),
            ("Why were my bills so high? Two refunds are missing", "billing", .staff),
            ("You charged me twice and I want my money back", "billing", .staff),
            ("Zwei Rechnungen für einen Monat", "billing", .staff),
            ("Die abgebuchten Beträge stimmen nicht", "billing", .staff),
            ("Doppelte Abbuchungen per Lastschrift", "billing", .staff),
            ("Wann kommt meine Rückerstattung?", "billing", .staff),
            ("Wann kommt meine Rueckerstattung?", "billing", .staff),
            ("WANN KOMMT MEINE RUCKERSTATTUNG", "billing", .staff),
            ("Gutschriften fehlen", "billing", .staff),
            ("Ich habe meine Gebuehren nicht verstanden", "billing", .staff),
            ("I forgot my passwords and I am locked out", "account_security", .staff),
            ("Mein Konto ist gesperrt", "account_security", .staff),
            ("Wo ändere ich mein Passwort?", "account_security", .staff),
            ("Meine Zugangsdaten funktionieren nicht", "account_security", .staff),
            ("Got a phishing SMS, is it a scam?", "fraud", .staff),
            ("Betrügerische SMS erhalten", "fraud", .staff),
            ("Ich wurde betrogen", "fraud", .staff),
            ("Someone did a SIM-Swap on my number", "account_security", .staff),
            ("Mein Anwalt schreibt Ihnen", "legal", .staff),
            ("Ich reiche Klage ein", "legal", .staff),
            ("Ich möchte meinen Vertrag kündigen", "legal", .staff),
            ("My lawyer will contact you about GDPR", "legal", .staff),
            ("Notfall: mein Handy", "device", .staff),
            ("Ich rufe die Polizei", "general", .staff),
            ("Das Handy wurde gestohlen", "fraud", .staff),
        ]
    )
    func table(text: String, topic: String, tier: Tier) throws {
        let classification = try classify(text)
        #expect(classification.topic == topic, "\(text)")
        #expect(classifier.route(classification, at: now).tier == tier, "\(text)")
    }

    @Test("Folding: case, diacritics, ß/ss, ä/ae/a, full-width letters and zero-width characters")
    func folding() throws {
        func words(_ text: String) -> [String] {
            let folded = KeywordText(text)
            return folded.words.map { String(decoding: folded.bytes[$0], as: UTF8.self) }
        }
        #expect(words("Straße STRASSE strasse") == ["strasse", "strasse", "strasse"])
        #expect(words("Rückerstattung Rueckerstattung") == ["ruckerstattung", "ruckerstattung"])
        #expect(words("Gebühr, Gebuehr; Gebuhr") == ["gebuhr", "gebuhr", "gebuhr"])
        #expect(words("résiliation Ｆｒａｕｄ Be\u{200B}trug Sof\u{00AD}ort") == ["resiliation", "fraud", "betrug", "sofort"])
        #expect(words("Łódź kızıl İstanbul") == ["lodz", "kizil", "istanbul"])
        #expect(words("SIM-Swap: 4G/5G!") == ["sim", "swap", "4g", "5g"])
        #expect(try classify("ＦＲＡＵＤ").priority == .critical)
        #expect(try classify("Be\u{200B}trug").priority == .critical)
    }

    @Test("A prefix keyword matches the start of a word only; a phrase may end in a prefix")
    func prefixes() throws {
        let policy = Policy(
            topics: [
                .init(name: "general", keywords: []),
                .init(name: "billing", keywords: Policy.Keywords(byLanguage: ["de": ["abbuch*", "konto* gesperrt"]])),
            ],
            defaultTopic: "general", staffOnlyTopics: ["billing"], criticalKeywords: ["straße"], languages: ["de"],
            defaultLanguage: "de", peerWindow: [.normal: 60], claimLease: 60, defaultCapacity: [:]
        )
        let classifier = IntakeClassifier(policy: policy)
        func topic(_ text: String) throws -> String {
            try classifier.classify(subject: text, body: "", topic: nil, language: nil, priority: nil).topic
        }
        #expect(try topic("Abbuchung") == "billing")
        #expect(try topic("abbuchen") == "billing")
        #expect(try topic("abbuch") == "billing")
        #expect(try topic("Fehlabbuchung") == "general")
        #expect(try topic("abbu") == "general")
        #expect(try topic("Kontos gesperrt") == "billing")
        #expect(try topic("Konto nicht gesperrt") == "general")
        #expect(try topic("gesperrt Konto") == "general")
        #expect(try classifier.classify(subject: "Hauptstrasse", body: "", topic: nil, language: nil, priority: nil).priority == .normal)
        #expect(try classifier.classify(subject: "Strasse", body: "", topic: nil, language: nil, priority: nil).priority == .critical)
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
