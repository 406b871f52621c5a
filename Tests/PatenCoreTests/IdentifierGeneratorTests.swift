import Foundation
import Synchronization
import Testing

@testable import PatenCore

@Suite("Time-ordered ids")
struct IdentifierGeneratorTests {
    /// A clock that stays where it is set, backwards too.
    final class SetClock: Clock {
        private let time: Mutex<Date>
        init(_ milliseconds: Int64) { time = Mutex(Date(millisecondsSince1970: milliseconds)) }
        func set(_ milliseconds: Int64) { time.withLock { $0 = Date(millisecondsSince1970: milliseconds) } }
        func now() -> Date { time.withLock { $0 } }
        func sleep(for duration: Duration) async throws {}
    }

    static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")

    /// The milliseconds in an id's first 10 characters after the prefix. Only tests read ids: production code keeps
    /// them opaque.
    static func time(of id: String, prefix: String) throws -> Int64 {
        let body = try #require(id.hasPrefix(prefix + "_") ? id.dropFirst(prefix.count + 1) : nil)
        return try body.prefix(10).reduce(Int64(0)) { value, character in
            value * 32 + Int64(try #require(alphabet.firstIndex(of: character)))
        }
    }

    /// The id's random part, 16 characters after its time.
    static func random(of id: String) -> Substring { id.suffix(16) }

    @Test("Each id is the prefix, an underscore and 26 characters of lowercase Crockford base32")
    func format() {
        let generator = TimeOrderedIdentifierGenerator(clock: SetClock(1_790_000_000_123))
        for prefix in ["q", "m", "esc", "msg"] {
            let id = generator.make(prefix)
            #expect(id.hasPrefix(prefix + "_"))
            let body = id.dropFirst(prefix.count + 1)
            #expect(body.count == 26, "\(id)")
            #expect(body.allSatisfy { Self.alphabet.contains($0) }, "\(id)")
        }
    }

    @Test("The time part is the clock's milliseconds, read back exactly from 1970 to 9999; earlier times give 0")
    func timeRoundTrips() throws {
        let clock = SetClock(0)
        for milliseconds: Int64 in [0, 1, 31, 32, 1_469_918_176_385, 1_790_000_000_123, 253_402_300_799_999] {
            clock.set(milliseconds)
            // A fresh generator: a used one would keep its last time when the clock steps back.
            let id = TimeOrderedIdentifierGenerator(clock: clock).make("q")
            #expect(try Self.time(of: id, prefix: "q") == milliseconds, "\(id)")
        }
        clock.set(-5)
        #expect(try Self.time(of: TimeOrderedIdentifierGenerator(clock: clock).make("q"), prefix: "q") == 0)
    }

    @Test("Encodes as ULID does: the reference time, and each random bit in its place")
    func encoding() {
        let clock = SetClock(1_469_918_176_385)
        func id(_ high: UInt16, _ low: UInt64) -> String {
            TimeOrderedIdentifierGenerator(clock: clock) { (high, low) }.make("x")
        }
        // The time of the ULID specification's example 01ARYZ6S41TSV4RRFFQ69G5FAV.
        #expect(id(0, 0) == "x_01aryz6s410000000000000000")
        #expect(id(.max, .max) == "x_01aryz6s41zzzzzzzzzzzzzzzz")
        // The fourth random character holds bits 60 to 64: the low word's top 4 and the high word's lowest.
        #expect(id(1, 0) == "x_01aryz6s41000g000000000000")
        #expect(id(0, 1 << 63) == "x_01aryz6s410008000000000000")
        #expect(id(0x8000, 0) == "x_01aryz6s41g000000000000000")
        #expect(id(0, 31) == "x_01aryz6s41000000000000000z")
    }

    @Test("Ids made in sequence as the clock moves sort byte-wise in the order they were made, and all differ")
    func sequenceSorts() {
        let clock = SetClock(1_790_000_000_000)
        let generator = TimeOrderedIdentifierGenerator(clock: clock)
        var ids: [String] = []
        var milliseconds: Int64 = 1_790_000_000_000
        for step in 0..<5000 {
            ids.append(generator.make("q"))
            // Mostly the next millisecond, sometimes the same one, sometimes days later.
            milliseconds += [1, 0, 1, 7, 86_400_000][step % 5]
            clock.set(milliseconds)
        }
        #expect(ids.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } == ids)
        #expect(Set(ids).count == ids.count)
    }

    @Test("10,000 ids within one millisecond keep its time, sort in creation order and all differ")
    func oneMillisecond() throws {
        let generator = TimeOrderedIdentifierGenerator(clock: SetClock(1_790_000_000_123))
        let ids = (0..<10_000).map { _ in generator.make("m") }
        #expect(ids.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } == ids)
        #expect(Set(ids).count == ids.count)
        for id in [ids[0], ids[5000], ids[9999]] { #expect(try Self.time(of: id, prefix: "m") == 1_790_000_000_123) }
    }

    @Test("When the clock steps back, ids keep the last time and still sort after the earlier ones")
    func clockStepsBack() throws {
        let clock = SetClock(1_790_000_000_500)
        let generator = TimeOrderedIdentifierGenerator(clock: clock)
        let first = generator.make("q")
        clock.set(1_790_000_000_000)
        let second = generator.make("q")
        #expect(first.utf8.lexicographicallyPrecedes(second.utf8))
        #expect(try Self.time(of: second, prefix: "q") == 1_790_000_000_500)
    }

    @Test("The random part carries into its high bits, and past its top into the time, keeping the order")
    func carries() throws {
        let clock = SetClock(1_790_000_000_000)
        let low = TimeOrderedIdentifierGenerator(clock: clock) { (0, .max) }
        let lowIds = [low.make("q"), low.make("q")]
        #expect(lowIds[0].utf8.lexicographicallyPrecedes(lowIds[1].utf8), "\(lowIds)")
        #expect(Self.random(of: lowIds[1]) == "000g000000000000")

        let top = TimeOrderedIdentifierGenerator(clock: clock) { (.max, .max) }
        let topIds = [top.make("q"), top.make("q"), top.make("q")]
        #expect(topIds.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } == topIds, "\(topIds)")
        #expect(Set(topIds).count == 3)
        #expect(try Self.time(of: topIds[1], prefix: "q") == 1_790_000_000_001)
    }

    @Test("Fresh draws fill all 80 random bits: every random character takes more than one value")
    func randomness() {
        let clock = SetClock(1_790_000_000_000)
        // Separate generators, as separate processes are: each id is a fresh draw, none an increment.
        let ids = (0..<200).map { _ in TimeOrderedIdentifierGenerator(clock: clock).make("q") }
        #expect(Set(ids).count == ids.count)
        for position in 0..<16 {
            let values = Set(ids.map { Self.random(of: $0).dropFirst(position).first })
            #expect(values.count > 1, "random character \(position) never changes")
        }
        // The first random character holds the top 5 bits; all 32 values should turn up in 200 draws.
        #expect(Set(ids.map { Self.random(of: $0).first }).count > 16)
    }
}
