import Foundation
import PatenCore
import PatenTestSupport
import Testing

@testable import PatenApp

@Suite("Policy files")
struct PolicyFileTests {
    @Test("The built-in policy is Config/policy.json, byte for byte, and valid")
    func builtIn() throws {
        let file = try String(contentsOf: repositoryRoot.appendingPathComponent("Config/policy.json"), encoding: .utf8)
        #expect(
            DefaultPolicy.json == file.trimmingCharacters(in: .newlines),
            "Config/policy.json differs from the built-in copy; run scripts/embed-resources.sh"
        )
        #expect(try PolicyLoader.parse(Data(DefaultPolicy.json.utf8), source: "built-in") == defaultPolicy())
    }

    @Test("A configured policy file that cannot be read stops start-up with its path")
    func missingExplicitFile() throws {
        do {
            _ = try PolicyFile.load("/nonexistent/policy.json")
            Issue.record("expected an error")
        } catch let error as PatenError {
            #expect(error.message.hasPrefix("/nonexistent/policy.json: cannot read"))
        }
    }
}
