import Foundation

extension DecodingError {
    /// A one-line account of the failure that names the field in snake_case, for error messages.
    public var fieldDescription: String {
        func path(_ keys: [any CodingKey]) -> String {
            let parts = keys.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue.snakeCased }
            return parts.isEmpty ? "the body" : "'" + parts.joined(separator: ".").replacingOccurrences(of: ".[", with: "[") + "'"
        }
        switch self {
        case .keyNotFound(let key, let context):
            return "Missing field \(path(context.codingPath + [key]))."
        case .typeMismatch(let type, let context):
            return "Field \(path(context.codingPath)) has the wrong type; expected \(Self.describe(type))."
        case .valueNotFound(let type, let context):
            return "Field \(path(context.codingPath)) is null; expected \(Self.describe(type))."
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "The body is not valid JSON." }
            return "Field \(path(context.codingPath)) is not valid: \(context.debugDescription)"
        @unknown default:
            return "The body could not be read as the expected JSON."
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "a whole number"
        case is Bool.Type: "true or false"
        default: "\(type)".contains("Array") ? "a list" : "an object"
        }
    }

}

extension String {
    /// A Swift property name as the API spells it: `displayName` → `display_name`.
    public var snakeCased: String {
        var out = ""
        for character in self {
            if character.isUppercase {
                out += "_" + character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }
}
