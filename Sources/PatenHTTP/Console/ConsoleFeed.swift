import Foundation
import Logging
import PatenCore
import Synchronization

/// The one feed every open console page follows: a single loop per process reads new escalation changes (every
/// `pollInterval`, and only while a page is open), reads the overview's figures after each batch of changes and every
/// 2 s (a few counter rows), and hands both to every subscriber as ready-made event-stream text. A thousand open pages
/// cost the database what one does (each stream's own cost is its session check every `stream_recheck_interval`).
public final class ConsoleFeed: Sendable {
    /// What a subscriber receives: event-stream text, already framed.
    typealias Events = AsyncStream<String>

    struct State {
        var subscribers: [Int: Events.Continuation] = [:]
        var nextId = 0
        var running = false
    }

    /// Passes between two readings of the figures when no escalation changed (4 × 500 ms: 2 s).
    static let countsEvery = 4

    let escalations: EscalationDesk
    let counts: @Sendable () async throws -> String
    let pollInterval: Duration
    let logger: Logger
    private let state = Mutex(State())

    /// Creates the feed over the escalation desk; `counts` reads the overview's figures as JSON.
    public init(
        escalations: EscalationDesk, counts: @escaping @Sendable () async throws -> String,
        pollInterval: Duration = .milliseconds(500), logger: Logger = Logger(label: "paten-console")
    ) {
        self.escalations = escalations
        self.counts = counts
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// Subscribers now; for tests and metrics.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// A new subscription: changes after now, as event-stream text, until `cancel` is called with the returned id.
    func subscribe() async throws -> (id: Int, events: Events) {
        let start = try await escalations.latestChange()
        let (stream, continuation) = Events.makeStream(bufferingPolicy: .bufferingNewest(256))
        let (id, startLoop) = state.withLock { state -> (Int, Bool) in
            let id = state.nextId
            state.nextId += 1
            state.subscribers[id] = continuation
            let start = !state.running
            state.running = true
            return (id, start)
        }
        if startLoop {
            Task.detached { [self] in await run(after: start) }
        }
        return (id, stream)
    }

    /// Ends a subscription.
    func cancel(_ id: Int) {
        let continuation = state.withLock { $0.subscribers.removeValue(forKey: id) }
        continuation?.finish()
    }

    /// A heartbeat comment to one subscriber (keeps proxies from closing a quiet stream).
    func ping(_ id: Int) {
        let continuation = state.withLock { $0.subscribers[id] }
        continuation?.yield(": heartbeat\n\n")
    }

    private func broadcast(_ text: String) {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for subscriber in subscribers { subscriber.yield(text) }
    }

    /// The loop: runs while anyone listens, then stops (the next subscriber starts it again).
    private func run(after first: Int64) async {
        var start = first
        var failing = false
        var passes = 0
        var lastFigures = ""
        while true {
            let stop = state.withLock { state -> Bool in
                if state.subscribers.isEmpty {
                    state.running = false
                    return true
                }
                return false
            }
            if stop { return }
            do {
                let changes = try await escalations.changes(after: start)
                for change in changes {
                    broadcast(try EscalationController.event(change))
                    start = change.sequence
                }
                // The figures after every batch of escalation changes, and every `countsEvery` passes for what
                // changes without an escalation (intake, claims, resolutions); sent only when they changed.
                passes += 1
                if !changes.isEmpty || passes % Self.countsEvery == 0 {
                    let figures = try await counts()
                    if figures != lastFigures {
                        broadcast("event: counts\ndata: \(figures)\n\n")
                        lastFigures = figures
                    }
                }
                if failing { logger.info("console feed reads again") }
                failing = false
                if changes.count >= 100 { continue }
            } catch {
                if !failing { logger.error("console feed read failed", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await Task.sleep(for: pollInterval)
        }
    }
}
