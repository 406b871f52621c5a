import Foundation
import PatenCore

/// Reads the routing policy from disk, or uses the one built into the binary.
public enum PolicyFile {
    /// The policy file used when none is configured, if it exists.
    public static let defaultPath = "Config/policy.json"

    /// Reads and validates the policy: the given file, else Config/policy.json when present, else the built-in
    /// policy (a copy of the repository's Config/policy.json).
    public static func load(_ path: String?) throws -> Policy {
        let chosen = path ?? defaultPath
        guard let data = FileManager.default.contents(atPath: chosen) else {
            if path == nil { return try PolicyLoader.parse(Data(DefaultPolicy.json.utf8), source: "built-in policy") }
            throw PatenError.configuration("\(chosen): cannot read the policy file; check the path given with --policy.")
        }
        return try PolicyLoader.parse(data, source: chosen)
    }
}
