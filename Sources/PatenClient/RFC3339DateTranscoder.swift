import Foundation
import OpenAPIRuntime

/// Paten's times: RFC 3339 in UTC, written with milliseconds (`2026-11-23T07:41:56.123Z`) and read with or without
/// fractional seconds.
public struct RFC3339DateTranscoder: DateTranscoder {
    private static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let whole = Date.ISO8601FormatStyle()

    /// Creates the transcoder.
    public init() {}

    /// The time with milliseconds.
    public func encode(_ date: Date) throws -> String { date.formatted(Self.fractional) }

    /// Reads a time with or without fractional seconds.
    public func decode(_ text: String) throws -> Date {
        if let date = try? Self.fractional.parse(text) { return date }
        if let date = try? Self.whole.parse(text) { return date }
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not an RFC 3339 time: \(text)"))
    }
}
