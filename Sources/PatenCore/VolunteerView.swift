import Foundation

/// What a volunteer may see of questions: customer contact data masked in every text, and of the timeline only the
/// facts meant for helpers. A volunteer is a stranger with a token; anything a customer or a chat bridge put into a
/// question (a conversation id keyed by phone number, a webhook's ids, a rating link) stays with staff.
public struct VolunteerView: Sendable {
    /// Timeline keys a volunteer may see; every other key is left out, whatever event carries it.
    public static let timelineKeys: Set<String> = [
        "tier", "reason", "topic", "priority", "language", "peer_deadline_at", "message_id", "claim_id",
        "lease_expires_at", "lease_expired_at", "holder_id", "former_holder_id", "first_response", "helper_role", "response_ms",
        "response_kind", "escalation_id", "level", "note", "target", "due_at", "score", "helper_id", "helper_tier",
        "incident_id", "how", "incident_update_id",
    ]

    private let masker: ContactMasker

    /// Creates the view over a masker.
    public init(masker: ContactMasker = ContactMasker()) {
        self.masker = masker
    }

    /// The question with contact data masked in its subject and customer.
    public func question(_ question: Question) -> Question {
        var copy = question
        copy.subject = masker.mask(question.subject)
        copy.customer = Customer(id: masker.mask(question.customer.id), name: masker.mask(question.customer.name))
        return copy
    }

    /// The detail with masked texts, only the allowed timeline keys (their values masked too), and no rating link.
    public func detail(_ detail: QuestionDetail) -> QuestionDetail {
        var copy = detail
        copy.question = question(detail.question)
        copy.messages = detail.messages.map { message in
            var message = message
            message.body = masker.mask(message.body)
            return message
        }
        copy.events = detail.events.map(event)
        copy.ratingLink = nil
        copy.ratingUrl = nil
        return copy
    }

    /// The event with only the keys meant for volunteers, each value masked (a note is free text).
    public func event(_ event: QuestionEvent) -> QuestionEvent {
        var copy = event
        copy.data = [:]
        for (key, value) in event.data where Self.timelineKeys.contains(key) {
            copy.data[key] = masker.mask(value)
        }
        return copy
    }

    /// Masks free text a volunteer is shown, such as an escalation's subject.
    public func text(_ text: String) -> String { masker.mask(text) }
}
