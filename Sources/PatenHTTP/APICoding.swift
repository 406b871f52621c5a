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
    public mutating func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int = APICoding.bodyLimit) async throws -> T {
        let buffer = try await collectBody(upTo: limit)
        guard buffer.readableBytes > 0 else {
            throw PatenError.malformed("body_required", "Send a JSON object as the request body.")
        }
        if JSONText.containsNUL(buffer.readableBytesView) { throw JSONText.nulRefused }
        do {
            return try APICoding.decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw PatenError.malformed("invalid_body", APICoding.describe(error))
        }
    }
}

extension APICoding {
    /// A one-line account of a decoding failure that names the field in the API's snake_case.
    static func describe(_ error: DecodingError) -> String {
        error.fieldDescription
    }
}
