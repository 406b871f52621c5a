import Foundation
import PatenCore
import Testing

@Suite("RFC 3339 formatting")
struct RFC3339Tests {
    @Test("Agrees with Foundation's ISO 8601 formatting across eras, leap days and millisecond edges")
    func agreesWithFoundation() {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var generator = SystemRandomNumberGenerator()
        var samples: [Int64] = [0, -1, 951_782_400_000, 4_107_542_399_999, 1_790_000_000_123, -2_208_988_800_000]
        for _ in 0..<2000 { samples.append(Int64.random(in: -2_208_988_800_000...4_102_444_800_000, using: &generator)) }
        for ms in samples {
            // Foundation truncates, and a whole millisecond may sit a hair below itself in binary: ask it about a
            // point 0.4 ms later, which has the same millisecond.
            let reference = Date(timeIntervalSince1970: Double(ms) / 1000 + 0.0004).formatted(style)
            #expect(RFC3339.format(Date(millisecondsSince1970: ms)) == reference, "at \(ms) ms")
        }
    }

    @Test("Known values")
    func known() {
        #expect(RFC3339.format(Date(millisecondsSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(Date(millisecondsSince1970: 951_782_400_000)) == "2000-02-29T00:00:00.000Z")
        #expect(RFC3339.format(Date(millisecondsSince1970: -1)) == "1969-12-31T23:59:59.999Z")
    }
}
