import Foundation
import Synchronization

/// Progress of long work on stderr, one line rewritten in place: rows done, the rate, and the time left when the
/// total is known. Silent unless stderr is a terminal, so scripts and logs see nothing extra.
public final class Progress: Sendable {
    /// Whether stderr is a terminal (progress is shown only then).
    public static var isTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    private struct State {
        var done = 0
        var lastDrawn: ContinuousClock.Instant?
        var drawn = false
    }

    private let total: Int?
    private let unit: String
    private let enabled: Bool
    private let started = ContinuousClock.now
    private let state = Mutex(State())

    /// Creates a reporter; `total` (when known) gives the time left.
    public init(total: Int?, unit: String, enabled: Bool = Progress.isTerminal) {
        self.total = total
        self.unit = unit
        self.enabled = enabled
    }

    /// Sets the rows done; redraws at most five times a second.
    public func update(done: Int) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let line: String? = state.withLock { state in
            state.done = max(state.done, done)
            if let last = state.lastDrawn, now - last < .milliseconds(200) { return nil }
            state.lastDrawn = now
            state.drawn = true
            return Self.line(done: state.done, total: total, unit: unit, elapsed: now - started)
        }
        if let line { FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8)) }
    }

    /// Clears the progress line, so the command's own output starts on a clean line.
    public func finish() {
        guard enabled, state.withLock({ $0.drawn }) else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    /// "12,345 of 100,000 questions, 4,321/s, about 20 s left".
    static func line(done: Int, total: Int?, unit: String, elapsed: Duration) -> String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var text = total.map { "\(done) of \($0) \(unit)" } ?? "\(done) \(unit)"
        text += String(format: ", %.0f/s", rate)
        if let total, rate > 0, done < total {
            text += ", about \(remaining(Double(total - done) / rate)) left"
        }
        return text
    }

    /// "45 s", "3 min", "2 h 5 min".
    static func remaining(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole) s" }
        if whole < 3600 { return "\((whole + 59) / 60) min" }
        return "\(whole / 3600) h \((whole % 3600) / 60) min"
    }
}
