import Foundation
import PatenCore

extension OpenAPIDocument {
    /// The document as this deployment serves it: each schema marked `x-paten-policy: topics` or `languages` gets
    /// the policy's topics or languages as its `enum`, so clients and schema-driven tools know exactly which values
    /// the server takes.
    public static func yaml(for policy: Policy) -> String {
        let values = ["topics": policy.topics.map(\.name), "languages": policy.languages]
        return yaml.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let text = line.drop(while: { $0 == " " })
            guard text.hasPrefix("x-paten-policy: "), let names = values[String(text.dropFirst(16))] else {
                return String(line)
            }
            // JSON strings are YAML flow scalars, so any policy name is quoted correctly.
            let list = names.map { name in
                String(decoding: (try? JSONEncoder().encode(name)) ?? Data("\"\"".utf8), as: UTF8.self)
            }
            return "\(line.prefix(line.count - text.count))enum: [\(list.joined(separator: ", "))]"
        }
        .joined(separator: "\n")
    }
}
