import Foundation
import Synchronization

/// The source of "now" for everything that records or compares times.
public protocol Clock: Sendable {
    /// The current time.
    func now() -> Date
}

/// The wall clock, truncated to whole milliseconds so stored and returned times agree.
public struct SystemClock: Clock {
    /// Creates the wall clock.
    public init() {}

    public func now() -> Date { Date().truncatedToMilliseconds }
}

/// A clock that only moves when told to, for tests and simulations.
public final class ManualClock: Clock {
    private let current: Mutex<Date>

    /// Creates a clock stopped at the given time.
    public init(_ start: Date = Date(timeIntervalSince1970: 1_790_000_000)) {
        current = Mutex(start.truncatedToMilliseconds)
    }

    public func now() -> Date { current.withLock { $0 } }

    /// Moves the clock forward by the given number of seconds.
    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds).truncatedToMilliseconds }
    }
}

extension Date {
    /// Whole milliseconds since 1970, the unit every time is stored in.
    public var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    /// The date for a count of milliseconds since 1970.
    public init(millisecondsSince1970 ms: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(ms) / 1000)
    }

    /// This date without its sub-millisecond part.
    public var truncatedToMilliseconds: Date { Date(millisecondsSince1970: millisecondsSince1970) }
}
