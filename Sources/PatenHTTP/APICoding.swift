import Foundation
import Hummingbird
import PatenCore

/// The JSON conventions of the API: snake_case keys and RFC 3339 UTC times with milliseconds.
public enum APICoding {
    /// Largest JSON body accepted on most routes.
    public static let bodyLimit = 64 * 1024

    /// The encoder for responses (and for clients that send requests).
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(format(date))
        }
        return encoder
    }

    /// The decoder for requests (and for clients that read responses).
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 time: \(text)")
            }
            return date
        }
        return decoder
    }

    /// A time as RFC 3339 in UTC with milliseconds, such as `2026-11-23T07:41:56.123Z`.
    public static func format(_ date: Date) -> String {
        RFC3339.format(date)
    }

    /// Reads an RFC 3339 time, with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        RFC3339.parse(text)
    }
}

extension Request {
    /// Reads the body (at most `limit` bytes, else 413) and decodes it as JSON, with errors that name the field.
    ///
    /// An optional field sent as `null` is refused (400 `null_field`): leaving a field out is how a request keeps
    /// its default, and a `null` that meant "clear it" must not pass silently as "no change". Types that give `null`
    /// a meaning decode it themselves.
    public mutating func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int = APICoding.bodyLimit) async throws -> T {
        guard let value = try await decodeOptionalJSON(type, limit: limit) else {
            throw PatenError.malformed("body_required", "Send a JSON object as the request body.")
        }
        return value
    }

    /// Like `decodeJSON`, for routes whose body may be left out: nil when it is empty.
    public mutating func decodeOptionalJSON<T: Decodable>(
        _ type: T.Type, limit: Int = APICoding.bodyLimit
    ) async throws -> T? {
        let buffer = try await collectBody(upTo: limit)
        guard buffer.readableBytes > 0 else { return nil }
        if JSONText.containsNUL(buffer.readableBytesView) { throw JSONText.nulRefused }
        let value: T
        do {
            value = try APICoding.decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw PatenError.malformed("invalid_body", APICoding.describe(error))
        }
        if let field = APICoding.nullField(in: buffer.readableBytesView, of: value) { throw APICoding.nullRefused(field) }
        return value
    }
}

extension APICoding {
    /// The first optional field of `value` that the body sent as `null`, by its JSON name, or nil. Bodies without
    /// the bytes `null` (nearly all) are not read a second time; members the type does not know are ignored.
    static func nullField(in body: some Collection<UInt8>, of value: Any) -> String? {
        guard body.containsNullLiteral,
            let members = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        else { return nil }
        for child in Mirror(reflecting: value).children {
            guard let label = child.label, members[label.snakeCased] is NSNull else { continue }
            let field = Mirror(reflecting: child.value)
            if field.displayStyle == .optional && field.children.isEmpty { return label.snakeCased }
        }
        return nil
    }

    /// The 400 for a field sent as `null` where it may only be left out.
    static func nullRefused(_ field: String) -> PatenError {
        PatenError.malformed("null_field", "Field '\(field)' may not be null; leave it out instead.")
    }

    /// A one-line account of a decoding failure that names the field in the API's snake_case.
    static func describe(_ error: DecodingError) -> String {
        error.fieldDescription
    }
}

extension Collection<UInt8> {
    /// Whether the bytes `null` occur anywhere.
    fileprivate var containsNullLiteral: Bool {
        var matched = 0
        for byte in self {
            let expected: UInt8 = matched == 0 ? 0x6E : matched == 1 ? 0x75 : 0x6C  // n u l l
            if byte == expected {
                matched += 1
                if matched == 4 { return true }
            } else {
                matched = byte == 0x6E ? 1 : 0
            }
        }
        return false
    }
}
