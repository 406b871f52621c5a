import Foundation
import Synchronization

/// Makes the opaque ids that name records.
public protocol IdentifierGenerator: Sendable {
    /// A new id, starting with the given prefix (such as `q` for questions).
    func make(_ prefix: String) -> String
}

/// Time-ordered ids, the ones new rows get: a prefix, an underscore and the 26 characters of a ULID in lowercase
/// Crockford base32 (`0-9a-z` without `i l o u`): 10 for the milliseconds since 1970 (48 bits), then 16 for 80
/// random bits.
///
/// Ids of one prefix compare byte by byte (and so in SQLite's and PostgreSQL's "C" collation) in the order they were
/// made: each generator is monotonic, so within one millisecond, or when its clock steps back, it adds one to the
/// previous id's random part instead of drawing a new one. New rows therefore land at the end of their table's
/// B-tree rather than on a random page. Across generators and processes, ids of one millisecond differ by their 80
/// random bits. Ids stay opaque: nothing reads the time back out of them, and the older random ids (20 characters
/// after the prefix) stay valid beside them.
public final class TimeOrderedIdentifierGenerator: IdentifierGenerator {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)
    private static let maxTime: UInt64 = (1 << 48) - 1

    /// The last id's time and random part: the high 16 and low 64 of its 80 bits.
    private struct Last {
        var time: UInt64
        var high: UInt16
        var low: UInt64
    }

    private let clock: any Clock
    private let draw: @Sendable () -> (high: UInt16, low: UInt64)
    private let last = Mutex<Last?>(nil)

    /// Creates a generator that stamps ids with the clock's time: the process's injected clock, so an id's time
    /// and its row's `created_at` come from the same source.
    public convenience init(clock: any Clock = SystemClock()) {
        self.init(clock: clock) {
            var generator = SystemRandomNumberGenerator()
            return (generator.next(), generator.next())
        }
    }

    /// Creates a generator that draws random parts from `draw` (tests use it to reach the carries).
    init(clock: any Clock, draw: @escaping @Sendable () -> (high: UInt16, low: UInt64)) {
        self.clock = clock
        self.draw = draw
    }

    public func make(_ prefix: String) -> String {
        let milliseconds = clock.now().millisecondsSince1970
        let now = UInt64(clamping: min(max(milliseconds, 0), Int64(Self.maxTime)))
        let next = last.withLock { last -> Last in
            var next: Last
            if let previous = last, now <= previous.time {
                next = previous
                next.low &+= 1
                if next.low == 0 { next.high &+= 1 }
                // 2^80 ids in one millisecond cannot happen, but a random part drawn near the top can wrap: carry
                // into the time, which keeps the order and the uniqueness.
                if next.low == 0 && next.high == 0 { next.time = min(next.time + 1, Self.maxTime) }
            } else {
                let random = draw()
                next = Last(time: now, high: random.high, low: random.low)
            }
            last = next
            return next
        }
        var body = [UInt8](repeating: 0, count: 26)
        for index in 0..<10 {
            body[index] = Self.alphabet[Int((next.time >> UInt64(5 * (9 - index))) & 31)]
        }
        // The 80 random bits, 5 to a character: the character at bit 60 takes 4 bits of the low word and 1 of the
        // high.
        for index in 0..<16 {
            let shift = 5 * (15 - index)
            let value: UInt64
            if shift >= 64 {
                value = UInt64(next.high) >> UInt64(shift - 64)
            } else if shift == 60 {
                value = (next.low >> UInt64(shift)) | (UInt64(next.high) << UInt64(64 - shift))
            } else {
                value = next.low >> UInt64(shift)
            }
            body[10 + index] = Self.alphabet[Int(value & 31)]
        }
        return prefix + "_" + String(decoding: body, as: UTF8.self)
    }
}

/// Random ids: a prefix, an underscore and 20 characters of lowercase base32 (100 bits). The format ids had before
/// they were time-ordered; existing rows keep them.
public struct RandomIdentifierGenerator: IdentifierGenerator {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")

    /// Creates the generator.
    public init() {}

    public func make(_ prefix: String) -> String {
        // Two draws of 64 random bits give the 100 bits (20 × 5); a draw per character costs a system call each.
        var generator = SystemRandomNumberGenerator()
        let words = [generator.next() as UInt64, generator.next() as UInt64]
        let body = (0..<20).map { index in
            Self.alphabet[Int((words[index / 10] >> UInt64(5 * (index % 10))) & 31)]
        }
        return prefix + "_" + String(body)
    }
}
