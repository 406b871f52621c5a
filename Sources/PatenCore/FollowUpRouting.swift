import Foundation

/// What a customer's follow-up says about where its question belongs, read from its text as intake reads the first
/// message: a customer who starts with "a question" and then writes "my account was hacked" must reach staff too.
public struct FollowUpRouting: Sendable, Equatable {
    /// The follow-up has a critical keyword: the question becomes critical, escalates and goes to staff.
    public var critical: Bool
    /// The staff-only topic the follow-up names, if any: the question goes to staff.
    public var staffOnlyTopic: String?

    /// Creates a routing; the default changes nothing.
    public init(critical: Bool = false, staffOnlyTopic: String? = nil) {
        self.critical = critical
        self.staffOnlyTopic = staffOnlyTopic
    }

    /// Whether a volunteer-tier question must move to staff.
    public var movesToStaff: Bool { critical || staffOnlyTopic != nil }

    /// Why it moved, for the routed event.
    public var reason: String { critical ? "critical_follow_up" : "staff_only_follow_up" }
}

extension IntakeClassifier {
    /// Reads a customer's follow-up for staff-only topics and critical keywords, in every language, with the same
    /// keywords and rules as intake (a staff-only keyword wins over any other topic).
    public func followUp(_ text: String) -> FollowUpRouting {
        guard
            let found = try? classify(subject: "", body: text, topic: nil, language: nil, priority: nil)
        else { return FollowUpRouting() }
        // With no keyword at all, classification falls back to the default topic: that is not the customer naming it.
        let named = found.topic != policy.defaultTopic || !policy.staffOnlyTopics.contains(found.topic)
        return FollowUpRouting(
            critical: found.priority == .critical,
            staffOnlyTopic: named && policy.staffOnlyTopics.contains(found.topic) ? found.topic : nil
        )
    }
}
