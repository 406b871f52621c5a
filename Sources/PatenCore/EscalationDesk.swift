import Foundation

/// The staff side of escalations: listing, acknowledging, resolving, and the ordered change feed behind the live
/// stream. Only staff and admins may use it.
public struct EscalationDesk: Sendable {
    private let escalations: any EscalationRepository
    private let clock: any Clock

    /// Creates the desk over its repository.
    public init(escalations: any EscalationRepository, clock: any Clock) {
        self.escalations = escalations
        self.clock = clock
    }

    /// Escalations matching the filter, newest first.
    public func list(_ filter: EscalationFilter, for viewer: Helper) async throws -> [Escalation] {
        try Self.requireStaff(viewer)
        try SupportDesk.require(
            (1...500).contains(filter.limit), "invalid_limit", "limit must be from 1 to 500.", kind: .malformed
        )
        return try await escalations.escalations(matching: filter, at: clock.now())
    }

    /// One escalation.
    public func escalation(_ id: String, for viewer: Helper) async throws -> Escalation {
        try Self.requireStaff(viewer)
        guard let escalation = try await escalations.escalation(id: id) else {
            throw PatenError.notFound("escalation", id: id)
        }
        return escalation
    }

    /// Acknowledges an open escalation: someone on staff is on it.
    public func acknowledge(_ id: String, by actor: Helper) async throws -> Escalation {
        try Self.requireStaff(actor)
        return try await escalations.acknowledgeEscalation(id: id, by: actor, at: clock.now())
    }

    /// Resolves an escalation.
    public func resolve(_ id: String, by actor: Helper) async throws -> Escalation {
        try Self.requireStaff(actor)
        return try await escalations.resolveEscalation(id: id, by: actor, at: clock.now())
    }

    /// Changes after a sequence number, oldest first.
    public func changes(after sequence: Int64, limit: Int = 100) async throws -> [EscalationChange] {
        try await escalations.escalationChanges(after: sequence, limit: limit)
    }

    /// The latest change's sequence number.
    public func latestChange() async throws -> Int64 {
        try await escalations.latestEscalationChange()
    }

    /// Open and acknowledged escalations by level.
    public func unresolvedCounts() async throws -> [Int: Int] {
        try await escalations.unresolvedEscalationCounts()
    }

    /// Throws 403 unless the account is staff or an admin.
    public static func requireStaff(_ helper: Helper) throws {
        guard helper.role.isStaffOrAdmin else {
            throw PatenError.forbidden("staff_only", "Escalations are for staff and admins.")
        }
    }
}

/// How an escalation moves forward, as pure decisions the stores call under the escalation's lock.
public enum EscalationRules {
    /// Only an open escalation can be acknowledged.
    public static func checkAcknowledge(_ escalation: Escalation) throws {
        guard escalation.state == .open else {
            throw PatenError.conflict(
                "escalation_not_open",
                "Escalation \(escalation.id) is \(escalation.state.rawValue), not open; nothing to acknowledge."
            )
        }
    }

    /// An escalation is resolved once; resolving an open one acknowledges it too.
    public static func checkResolve(_ escalation: Escalation) throws {
        guard escalation.state != .resolved else {
            throw PatenError.conflict("escalation_resolved", "Escalation \(escalation.id) is already resolved.")
        }
    }
}
