import Foundation
import PatenCore
import PatenTestSupport
import Testing

@Suite("Policy loading and validation")
struct PolicyLoaderTests {
    /// The shipped policy as a mutable JSON object.
    func shipped() throws -> [String: Any] {
        let data = try Data(contentsOf: repositoryRoot.appendingPathComponent("Config/policy.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func errorMessage(_ document: [String: Any]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: document)
        do {
            _ = try PolicyLoader.parse(data, source: "test.json")
            return "no error"
        } catch let error as PatenError {
            #expect(error.kind == .configuration)
            return error.message
        }
    }

    @Test("The shipped policy loads")
    func shippedPolicy() throws {
        let policy = try defaultPolicy()
        #expect(policy.staffOnlyTopics == ["billing", "account_security", "fraud", "legal"])
        #expect(policy.claimLease == TimeInterval(30 * 60))
        #expect(policy.peerWindow[.low] == TimeInterval(8 * 3600))
        #expect(policy.capacity(for: .volunteer) == 3)
        // Every listed language has keywords for every staff-only topic and the critical keywords.
        for topic in policy.topics where policy.staffOnlyTopics.contains(topic.name) {
            #expect(Set(topic.keywords.byLanguage.keys) == Set(policy.languages), "\(topic.name)")
        }
        #expect(Set(policy.criticalKeywords.byLanguage.keys) == Set(policy.languages))
    }

    @Test("The older form, a plain list of keywords, still loads and applies to every language")
    func plainLists() throws {
        var document = try shipped()
        var topics = try #require(document["topics"] as? [[String: Any]])
        topics[6]["keywords"] = ["Rechnung*", "refund"]
        document["topics"] = topics
        document["critical_keywords"] = ["fraud", "Betrug*"]
        let policy = try PolicyLoader.parse(try JSONSerialization.data(withJSONObject: document), source: "old.json")
        #expect(policy.topics[6].keywords == ["Rechnung*", "refund"])
        let classifier = IntakeClassifier(policy: policy)
        let classification = try classifier.classify(
            subject: "Rechnungen", body: "Betrugsverdacht", topic: nil, language: "fr", priority: nil
        )
        #expect(classification.topic == "billing")
        #expect(classification.priority == .critical)
    }

    @Test(
        "A bad keyword names the file, the key and the problem",
        arguments: [
            ("", "key 'topics[6].keywords.de[0]': must be a non-empty string"),
            ("   ", "key 'topics[6].keywords.de[0]': must be a non-empty string"),
            ("*", "key 'topics[6].keywords.de[0]': a lone '*' would match every word"),
            ("ab*", "key 'topics[6].keywords.de[0]': 'ab*': write at least 3 letters before the '*'"),
            ("**", "key 'topics[6].keywords.de[0]': a lone '*' would match every word"),
            ("ab*c", "key 'topics[6].keywords.de[0]': 'ab*c': '*' may only start or end a word"),
            ("rech**", "key 'topics[6].keywords.de[0]': 'rech**': '*' may only start or end a word"),
            ("**betrug", "key 'topics[6].keywords.de[0]': '**betrug': '*' may only start or end a word"),
            ("*ab*rechnung", "key 'topics[6].keywords.de[0]': '*ab*rechnung': '*' may only start or end a word"),
            ("*rec", "key 'topics[6].keywords.de[0]': '*rec': write at least 4 letters after a leading '*'"),
            ("*rec*", "key 'topics[6].keywords.de[0]': '*rec*': write at least 4 letters after a leading '*'"),
            ("*ück", "key 'topics[6].keywords.de[0]': '*ück': write at least 4 letters after a leading '*'"),
            ("monats *rec", "key 'topics[6].keywords.de[0]': '*rec': write at least 4 letters after a leading '*'"),
            ("*sim-ab*", "key 'topics[6].keywords.de[0]': '*sim-ab*': write at least 4 letters after a leading '*'"),
            ("*rechnung-ab*", "key 'topics[6].keywords.de[0]': '*rechnung-ab*': write at least 3 letters before the '*'"),
            ("?!", "key 'topics[6].keywords.de[0]': '?!' has no letters or digits"),
            ("*?!*", "key 'topics[6].keywords.de[0]': '*?!*' has no letters or digits"),
        ]
    )
    func badKeyword(keyword: String, expected: String) throws {
        var document = try shipped()
        var topics = try #require(document["topics"] as? [[String: Any]])
        var keywords = try #require(topics[6]["keywords"] as? [String: Any])
        keywords["de"] = [keyword, "rechnung*"]
        topics[6]["keywords"] = keywords
        document["topics"] = topics
        let message = try errorMessage(document)
        #expect(message.hasPrefix("test.json: \(expected)"), "\(message)")
    }

    @Test("Keywords with a leading '*' load and match the end of a word, or with a trailing '*' any part of it")
    func leadingStar() throws {
        var document = try shipped()
        var topics = try #require(document["topics"] as? [[String: Any]])
        var keywords = try #require(topics[6]["keywords"] as? [String: Any])
        keywords["de"] = ["*rechnung", "*abbuch*", "doppelt *bucht"]
        topics[6]["keywords"] = keywords
        document["topics"] = topics
        let policy = try PolicyLoader.parse(try JSONSerialization.data(withJSONObject: document), source: "star.json")
        #expect(policy.topics[6].keywords.byLanguage["de"] == ["*rechnung", "*abbuch*", "doppelt *bucht"])
        let classifier = IntakeClassifier(policy: policy)
        for (text, topic) in [
            ("Monatsrechnung", "billing"), ("Fehlabbuchungen", "billing"), ("doppelt abgebucht", "billing"),
            ("Monatsrechnungen", "general"),
        ] {
            let classification = try classifier.classify(subject: text, body: "", topic: nil, language: nil, priority: nil)
            #expect(classification.topic == topic, "\(text)")
        }
    }

    @Test("Keywords per language must name listed languages, and cover them all where they protect customers")
    func keywordLanguages() throws {
        var document = try shipped()
        var topics = try #require(document["topics"] as? [[String: Any]])
        var keywords = try #require(topics[8]["keywords"] as? [String: Any])
        keywords["xx"] = ["fraud"]
        topics[8]["keywords"] = keywords
        document["topics"] = topics
        #expect(try errorMessage(document).hasPrefix("test.json: key 'topics[8].keywords.xx': 'xx' is not in languages"))

        keywords["xx"] = nil
        keywords["tr"] = nil
        topics[8]["keywords"] = keywords
        document["topics"] = topics
        #expect(try errorMessage(document).hasPrefix("test.json: key 'topics[8].keywords.tr': missing"))

        document = try shipped()
        var critical = try #require(document["critical_keywords"] as? [String: Any])
        critical["pl"] = [String]()
        document["critical_keywords"] = critical
        #expect(try errorMessage(document).hasPrefix("test.json: key 'critical_keywords.pl': missing"))

        // A topic volunteers may handle need not cover every language.
        document = try shipped()
        topics = try #require(document["topics"] as? [[String: Any]])
        topics[2]["keywords"] = ["de": ["ausland*"]]
        document["topics"] = topics
        #expect(try errorMessage(document) == "no error")

        document["critical_keywords"] = 7
        #expect(try errorMessage(document).contains("key 'critical_keywords': must be a list of keywords, or an object"))
    }

    @Test("Each kind of mistake names the file and the key")
    func namedErrors() throws {
        var document = try shipped()
        document["peer_windw"] = [:]
        #expect(try errorMessage(document).hasPrefix("test.json: key 'peer_windw': unknown key"))

        document = try shipped()
        var windows = try #require(document["peer_window"] as? [String: Any])
        windows["high"] = nil
        document["peer_window"] = windows
        #expect(try errorMessage(document).contains("key 'peer_window.high': missing"))

        document = try shipped()
        document["claim_lease"] = "30 minutes"
        #expect(try errorMessage(document).contains("key 'claim_lease': '30 minutes' is not a duration"))

        document = try shipped()
        document["staff_only_topics"] = ["billing", "astrology"]
        #expect(try errorMessage(document).contains("key 'staff_only_topics[1]': 'astrology' is not one of the topics"))

        document = try shipped()
        document["default_language"] = "xx"
        #expect(try errorMessage(document).contains("key 'default_language'"))

        document = try shipped()
        document["default_capacity"] = ["volunteer": 0, "staff": 1, "admin": 1]
        #expect(try errorMessage(document).contains("key 'default_capacity.volunteer'"))
    }

    @Test("A document that is not JSON is refused with its source")
    func notJSON() throws {
        do {
            _ = try PolicyLoader.parse(Data("{".utf8), source: "x.json")
            Issue.record("expected an error")
        } catch let error as PatenError {
            #expect(error.message.hasPrefix("x.json: not valid JSON"))
        }
    }
}
