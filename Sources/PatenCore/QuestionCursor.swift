import Foundation

/// A position in the newest-first question order.
public struct QuestionCursor: Sendable, Equatable {
    public var createdAt: Date
    public var id: String

    /// Creates a cursor after the given question.
    public init(createdAt: Date, id: String) {
        self.createdAt = createdAt
        self.id = id
    }

    /// Cursor times a server can have given out: 1970 to the end of 9999.
    static let validRange: ClosedRange<Int64> = 0...253_402_300_799_999

    /// The opaque text form clients pass back.
    public var token: String {
        Data("\(createdAt.millisecondsSince1970):\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Reads a cursor a client passed back.
    public init(token: String) throws {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":"), let ms = Int64(text[..<colon]), Self.validRange.contains(ms)
        else {
            throw PatenError.malformed("invalid_cursor", "The cursor is not one this server gave out; start again without it.")
        }
        self.init(createdAt: Date(millisecondsSince1970: ms), id: String(text[text.index(after: colon)...]))
    }
}
