import Foundation
import Synchronization

/// The source of "now" for everything that records or compares times, and of the waits between background passes,
/// so tests move time instead of sleeping.
public protocol Clock: Sendable {
    /// The current time.
    func now() -> Date
    /// Suspends for the duration of this clock's time; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The wall clock, truncated to whole milliseconds so stored and returned times agree.
public struct SystemClock: Clock {
    /// Creates the wall clock.
    public init() {}

    public func now() -> Date { Date().truncatedToMilliseconds }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}

/// A clock that only moves when told to, for tests and simulations. Sleepers wake when `advance` passes their
/// deadline.
public final class ManualClock: Clock {
    private struct Sleeper {
        let id: UInt64
        let deadline: Date
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
    }

    private enum Registration {
        case waiting, due, cancelled
    }

    private let state: Mutex<State>

    /// Creates a clock stopped at the given time.
    public init(_ start: Date = Date(timeIntervalSince1970: 1_790_000_000)) {
        state = Mutex(State(now: start.truncatedToMilliseconds))
    }

    public func now() -> Date { state.withLock { $0.now } }

    /// How many tasks are asleep on this clock; tests wait for a service to be asleep before moving time.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(for duration: Duration) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let registration = state.withLock { state -> Registration in
                    if Task.isCancelled { return .cancelled }
                    let deadline = state.now.addingTimeInterval(duration.timeInterval)
                    if deadline <= state.now { return .due }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return .waiting
                }
                switch registration {
                case .waiting: break
                case .due: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward by the given number of seconds, waking every sleeper whose time has come.
    public func advance(by seconds: TimeInterval) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.addingTimeInterval(seconds).truncatedToMilliseconds
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}

extension Duration {
    /// The duration in seconds.
    public var timeInterval: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}

extension Date {
    /// Whole milliseconds since 1970 (nearest), the unit every time is stored in; clamped to the years 0001 to 9999.
    public var millisecondsSince1970: Int64 {
        // Nearest, not down: a date made from whole milliseconds may sit a hair below them in binary.
        let ms = (timeIntervalSince1970 * 1000).rounded()
        return Int64(exactly: min(max(ms, -62_135_596_800_000), 253_402_300_799_999)) ?? 0
    }

    /// The date for a count of milliseconds since 1970.
    public init(millisecondsSince1970 ms: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(ms) / 1000)
    }

    /// This date without its sub-millisecond part.
    public var truncatedToMilliseconds: Date { Date(millisecondsSince1970: millisecondsSince1970) }
}
