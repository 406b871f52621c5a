import Foundation

/// The clocks a question runs against: the volunteers' peer window and the staff targets.
public enum SLATarget: String, Codable, Sendable, CaseIterable {
    case peerWindow = "peer_window"
    case firstResponse = "first_response"
    case nextResponse = "next_response"
    case resolution

    /// The staff target this clock measures, if it is one.
    public var staffTarget: StaffTarget? { StaffTarget(rawValue: rawValue) }
}

/// Where a clock stands.
public enum SLAStatus: String, Codable, Sendable, CaseIterable {
    /// Running, before the warning threshold.
    case running
    /// Past the warning threshold, not yet due.
    case warned
    /// Past due before it was met.
    case breached
    /// Met in time (or late, after a breach was recorded: the breach stays).
    case met
    /// No longer applies (resolved before a reply was needed, or the question left the tier).
    case stopped
}

/// A clock to start: when it warns and when it is due.
public struct SLATimer: Sendable, Equatable {
    public var target: SLATarget
    public var startedAt: Date
    /// When to raise the warning; nil for the peer window, which has none.
    public var warnAt: Date?
    public var dueAt: Date

    /// Creates a timer.
    public init(target: SLATarget, startedAt: Date, warnAt: Date?, dueAt: Date) {
        self.target = target
        self.startedAt = startedAt
        self.warnAt = warnAt
        self.dueAt = dueAt
    }

    /// The first time the sweeper must look at this clock.
    public var firstCheck: Date { warnAt ?? dueAt }
}

/// Computes due times from the policy: peer windows in calendar time, staff targets in business time.
public struct SLAPlanner: Sendable {
    public let policy: Policy

    /// Creates a planner for the policy.
    public init(policy: Policy) {
        self.policy = policy
    }

    /// The peer window clock for a new volunteer-tier question.
    public func peerWindow(priority: Priority, from start: Date) -> SLATimer {
        SLATimer(
            target: .peerWindow, startedAt: start, warnAt: nil,
            dueAt: start.addingTimeInterval(policy.peerWindow[priority] ?? 0)
        )
    }

    /// A staff clock started at `start`, or nil when the policy sets no target for it.
    public func staffTimer(_ target: StaffTarget, priority: Priority, from start: Date) -> SLATimer? {
        guard let length = policy.target(target, for: priority), let clock = SLATarget(rawValue: target.rawValue) else {
            return nil
        }
        let times = policy.businessHours.add([length * policy.warningThreshold, length], to: start)
        return SLATimer(target: clock, startedAt: start, warnAt: times[0], dueAt: times[1])
    }

    /// The clocks that start when a question reaches staff: first response (unless a helper already answered)
    /// and resolution.
    public func staffArrival(priority: Priority, at start: Date, alreadyAnswered: Bool) -> [SLATimer] {
        [
            alreadyAnswered ? nil : staffTimer(.firstResponse, priority: priority, from: start),
            staffTimer(.resolution, priority: priority, from: start),
        ].compactMap { $0 }
    }
}

/// What a state change needs besides its own inputs: the time, the clocks' planner and a source of ids.
public struct ChangeContext: Sendable {
    public var now: Date
    public var planner: SLAPlanner
    public var ids: any IdentifierGenerator

    /// Creates a context.
    public init(now: Date, planner: SLAPlanner, ids: any IdentifierGenerator) {
        self.now = now
        self.planner = planner
        self.ids = ids
    }
}
