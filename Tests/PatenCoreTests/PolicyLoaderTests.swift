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
