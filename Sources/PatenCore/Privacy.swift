import Foundation
import Synchronization

/// The policy's `retention` section: how long customers' words are kept (docs/privacy.md).
public struct RetentionPolicy: Sendable, Equatable {
    /// The longest `resolved_days` the policy accepts (a hundred years).
    public static let maxResolvedDays = 36_500
    /// Days after its resolution when a question's texts are purged.
    public var resolvedDays: Int

    /// Creates a retention policy.
    public init(resolvedDays: Int) {
        self.resolvedDays = resolvedDays
    }

    /// A year after resolution.
    public static let standard = RetentionPolicy(resolvedDays: 365)

    /// Questions resolved before this time are due for the purge at `now`.
    public func resolvedBefore(_ now: Date) -> Date {
        now.addingTimeInterval(-Double(resolvedDays) * 86_400)
    }
}

/// Why a question's texts were replaced by tombstones.
public enum RedactionReason: String, Codable, Sendable, CaseIterable {
    /// The customer asked for their data to be erased.
    case erasure
    /// The question was resolved longer ago than the retention policy keeps texts.
    case retention
}

/// What stands where erased words were.
public enum Tombstone {
    public static let text = "[erased]"
}

/// One question's texts to erase wherever Paten copied them: its subject, its customer's id and name, every message
/// (the customer's and the helpers' replies, which quote them), rating comments, staff notes and chat conversation
/// ids. The store replaces the columns that hold them by `Tombstone.text` and rewrites every JSON document about the
/// question (timeline facts, outbox payloads, stored idempotent responses) with `redact(json:)`.
public struct Redaction: Sendable, Equatable {
    /// Keys whose string values are always erased in a question's JSON documents: people's words, and the chat's
    /// ids of the conversation and its messages (a chat may key them by phone number).
    public static let erasedKeys: Set<String> = [
        "body", "note", "comment", "subject", "conversation_id", "external_message_id", "top_terms",
    ]
    /// Keys whose values are facts, never people's words, and stay whatever they hold (a follow-up that says just
    /// "resolved" must not erase a `state`).
    public static let factKeys: Set<String> = [
        "type", "state", "tier", "priority", "topic", "language", "channel", "reason", "author", "author_kind", "role",
        "level", "score", "solved", "target", "response_kind", "first_response", "helper_role", "helper_tier", "how",
        "kind", "id", "timestamp", "handle", "display_name", "badge",
    ]

    public var reason: RedactionReason
    public var at: Date
    /// The texts to erase, with their masked forms (what volunteers were shown), trimmed, without duplicates or
    /// empty ones.
    public private(set) var texts: Set<String>
    /// The question's subject and its masked form: an incident with one of them as its title is named after it.
    public private(set) var subjects: [String]

    /// Creates a redaction of the question's subject and other texts.
    public init(reason: RedactionReason, at: Date, subject: String, texts: [String]) {
        self.reason = reason
        self.at = at
        let masker = ContactMasker()
        var all = Set<String>()
        for text in [subject] + texts {
            for form in [text, masker.mask(text)] {
                let trimmed = form.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty && trimmed != Tombstone.text { all.insert(trimmed) }
            }
        }
        self.texts = all
        self.subjects = Array(Set([subject, masker.mask(subject)])).sorted()
    }

    /// Whether the value is one of the erased texts (whole, once trimmed).
    public func isErased(_ value: String) -> Bool {
        texts.contains(value.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The JSON document with the tombstone for every string under an `erasedKeys` key or inside a `customer`
    /// object, and for every other string that is an erased text, except under `factKeys` and keys ending in `_id`
    /// or `_at`; nil when nothing changed (or the text is not JSON, which is left alone).
    public func redact(json: String) -> String? {
        redact(jsonData: Data(json.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `redact(json:)` over UTF-8 bytes.
    public func redact(jsonData: Data) -> Data? {
        guard let parsed = try? JSONSerialization.jsonObject(with: jsonData, options: [.fragmentsAllowed]) else {
            return nil
        }
        var changed = false
        let rewritten = rewrite(parsed, key: nil, inCustomer: false, changed: &changed)
        guard changed else { return nil }
        return try? JSONSerialization.data(
            withJSONObject: rewritten, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]
        )
    }

    private func rewrite(_ value: Any, key: String?, inCustomer: Bool, changed: inout Bool) -> Any {
        switch value {
        case let text as String:
            guard text != Tombstone.text else { return text }
            if inCustomer || key.map(Self.erasedKeys.contains) == true || (!Self.isFact(key) && isErased(text)) {
                changed = true
                return Tombstone.text
            }
            return text
        case let object as [String: Any]:
            var copy: [String: Any] = [:]
            for (name, inner) in object {
                copy[name] = rewrite(inner, key: name, inCustomer: inCustomer || name == "customer", changed: &changed)
            }
            return copy
        case let list as [Any]:
            return list.map { rewrite($0, key: key, inCustomer: inCustomer, changed: &changed) }
        default:
            return value
        }
    }

    static func isFact(_ key: String?) -> Bool {
        guard let key else { return false }
        return factKeys.contains(key) || key.hasSuffix("_id") || key.hasSuffix("_at")
    }

    /// Whether a question's subject and customer are tombstones already (redacted before: nothing to do).
    public static func isRedacted(_ question: Question) -> Bool {
        question.subject == Tombstone.text && question.customer.id == Tombstone.text
            && question.customer.name == Tombstone.text
    }
}

/// The audit fact of one erasure request: who asked, when, on which channel, how many questions it redacted. It
/// never holds the customer or what was erased.
public struct Erasure: Sendable, Equatable {
    public var id: String
    public var channel: String
    public var erasedBy: String
    public var erasedAt: Date
    public var questions: Int

    /// Creates an audit fact.
    public init(id: String, channel: String, erasedBy: String, erasedAt: Date, questions: Int) {
        self.id = id
        self.channel = channel
        self.erasedBy = erasedBy
        self.erasedAt = erasedAt
        self.questions = questions
    }
}

/// Everything stored about one of a customer's questions, for an access request.
public struct CustomerQuestionExport: Sendable, Equatable {
    public var question: Question
    /// Every message, in order.
    public var messages: [Message]
    /// The timeline, in order, without the facts about helpers (levels, badges, pauses).
    public var events: [QuestionEvent]
    public var rating: Rating?

    /// Creates an export entry.
    public init(question: Question, messages: [Message], events: [QuestionEvent], rating: Rating?) {
        self.question = question
        self.messages = messages
        self.events = events
        self.rating = rating
    }
}

/// What the privacy desk needs of a store besides question changes.
public protocol PrivacyRepository: Sendable {
    /// Ids of the customer's questions on the channel after `after` in id order, at most `limit`.
    func customerQuestionIds(channel: String, customerId: String, after: String?, limit: Int) async throws -> [String]
    /// Up to `limit` ids of questions resolved before `resolvedBefore` whose texts are still there, resolved
    /// longest ago first.
    func questionsDueRedaction(resolvedBefore: Date, limit: Int) async throws -> [String]
    /// Stores an erasure's audit fact.
    func recordErasure(_ erasure: Erasure) async throws
    /// The latest erasures' audit facts, newest first.
    func erasures(limit: Int) async throws -> [Erasure]
    /// The question's rating, if the customer rated it.
    func rating(questionId: String) async throws -> Rating?
    /// Makes space freed by redactions unreadable where the store can (SQLite: the write-ahead log is checkpointed
    /// and truncated; deleted content is zeroed as it is written, `secure_delete`).
    func scrubFreedSpace() async throws
}

extension QuestionCommands {
    /// Replaces the question's subject, customer and texts by tombstones (`Redaction`), keeping its state, counts,
    /// times, rating score and credit. A question redacted already is left as it is.
    public static func redact(
        _ snapshot: QuestionSnapshot, reason: RedactionReason, context: ChangeContext
    ) -> QuestionChange {
        var change = QuestionChange(from: snapshot)
        let question = snapshot.question
        guard !Redaction.isRedacted(question) else { return change }
        let redaction = Redaction(
            reason: reason, at: context.now, subject: question.subject,
            texts: [question.customer.id, question.customer.name] + snapshot.texts
        )
        change.question.subject = Tombstone.text
        change.question.customer = Customer(id: Tombstone.text, name: Tombstone.text)
        change.effects.append(.redact(redaction))
        return change
    }
}

/// Customers' data on request and on schedule: erasure (`erase`), access (`export`) and the retention purge
/// (`purgeDue`). Every question is redacted in a transaction of its own through the change engine, so a failure
/// part-way leaves whole questions redacted or untouched, and running it again finishes the work.
public struct PrivacyDesk: Sendable {
    /// Longest channel or customer id accepted (longer ones cannot be stored, so nothing is found).
    public static let maxIdLength = 200
    /// Questions read per page while erasing or exporting.
    public static let pageSize = 100

    private let store: any QuestionRepository & PrivacyRepository
    private let policy: Policy
    private let clock: any Clock
    private let ids: any IdentifierGenerator

    /// Creates the desk.
    public init(
        store: any QuestionRepository & PrivacyRepository, policy: Policy, clock: any Clock,
        ids: any IdentifierGenerator
    ) {
        self.store = store
        self.policy = policy
        self.clock = clock
        self.ids = ids
    }

    /// The desk's clock's time now.
    public func now() -> Date { clock.now() }

    /// The latest erasures' audit facts, newest first.
    public func erasures(limit: Int) async throws -> [Erasure] {
        try await store.erasures(limit: limit)
    }

    private func context() -> ChangeContext {
        ChangeContext(now: clock.now(), planner: SLAPlanner(policy: policy), ids: ids)
    }

    /// Refuses anyone but admins, and ids that cannot name a customer.
    public static func check(actor: Helper, channel: String, customerId: String) throws {
        guard actor.role == .admin, actor.active else {
            throw PatenError.forbidden("admin_only", "Only active admins can erase or export a customer's data.")
        }
        for (name, value) in [("channel", channel), ("customer_id", customerId)] {
            if value.isEmpty || value.count > maxIdLength {
                throw PatenError.unprocessable(
                    "invalid_\(name)", "The \(name) must be 1 to \(maxIdLength) characters, as the question carries it."
                )
            }
        }
        if customerId == Tombstone.text {
            throw PatenError.unprocessable(
                "invalid_customer_id", "'\(Tombstone.text)' stands for customers already erased; name a real customer."
            )
        }
    }

    /// Redacts every question of the customer on the channel, one transaction each, records the audit fact and
    /// scrubs freed space. Erasing a customer again finds nothing more to redact (the fact records 0 questions).
    public func erase(channel: String, customerId: String, by actor: Helper) async throws -> Erasure {
        try Self.check(actor: actor, channel: channel, customerId: customerId)
        var redacted = 0
        var after: String?
        while true {
            let page = try await store.customerQuestionIds(
                channel: channel, customerId: customerId, after: after, limit: Self.pageSize
            )
            for id in page where try await redact(questionId: id, reason: .erasure) { redacted += 1 }
            guard page.count == Self.pageSize, let last = page.last else { break }
            after = last
        }
        let erasure = Erasure(
            id: ids.make("era"), channel: channel, erasedBy: actor.id, erasedAt: clock.now(), questions: redacted
        )
        try await store.recordErasure(erasure)
        try await store.scrubFreedSpace()
        return erasure
    }

    /// Redacts one question; false when it was redacted already (or is gone).
    @discardableResult
    public func redact(questionId: String, reason: RedactionReason) async throws -> Bool {
        let context = context()
        let written = Mutex(false)
        do {
            _ = try await store.apply(questionId: questionId, needs: SnapshotNeeds(texts: true), at: context.now) {
                snapshot in
                let change = QuestionCommands.redact(snapshot, reason: reason, context: context)
                // The decision may run again (a retried PostgreSQL transaction): the last run is the one applied.
                written.withLock { $0 = !change.effects.isEmpty }
                return change
            }
            return written.withLock { $0 }
        } catch let error as PatenError where error.kind == .notFound {
            return false
        }
    }

    /// Redacts up to `limit` questions resolved longer ago than `retention.resolved_days`; returns how many. The
    /// caller scrubs the freed space once it has purged all it will (`scrubFreedSpace`).
    public func purgeDue(limit: Int) async throws -> Int {
        let due = try await store.questionsDueRedaction(
            resolvedBefore: policy.retention.resolvedBefore(clock.now()), limit: limit
        )
        var purged = 0
        for id in due where try await redact(questionId: id, reason: .retention) { purged += 1 }
        return purged
    }

    /// Makes the space the redactions freed unreadable where the store can (`PrivacyRepository.scrubFreedSpace`):
    /// once after a pass of `purgeDue` batches, since on SQLite it waits for readers while holding the writer.
    public func scrubFreedSpace() async throws {
        try await store.scrubFreedSpace()
    }

    /// The next page of the customer's questions with everything stored about each, after the question id `after`;
    /// `customer_not_found` when the first page is empty.
    public func export(
        channel: String, customerId: String, after: String?, by actor: Helper
    ) async throws -> (questions: [CustomerQuestionExport], next: String?) {
        try Self.check(actor: actor, channel: channel, customerId: customerId)
        let page = try await store.customerQuestionIds(
            channel: channel, customerId: customerId, after: after, limit: Self.pageSize
        )
        if page.isEmpty && after == nil {
            throw PatenError(
                .notFound, code: "customer_not_found",
                message: "Paten holds no questions from customer '\(customerId)' on channel '\(channel)'."
            )
        }
        var exported: [CustomerQuestionExport] = []
        for id in page {
            if let entry = try await exportQuestion(id) { exported.append(entry) }
        }
        return (exported, page.count == Self.pageSize ? page.last : nil)
    }

    private func exportQuestion(_ id: String) async throws -> CustomerQuestionExport? {
        var page = DetailPage(messageLimit: DetailPage.maxLimit, eventLimit: DetailPage.maxLimit)
        guard let detail = try await store.questionDetail(id: id, page: page) else { return nil }
        var messages = detail.messages
        var events = detail.events
        var messagesNext = detail.messagesNext
        while let next = messagesNext {
            page = DetailPage(
                messageLimit: DetailPage.maxLimit, messagesAfter: next, eventLimit: 1, eventsAfter: Int64.max
            )
            guard let more = try await store.questionDetail(id: id, page: page) else { break }
            messages += more.messages
            messagesNext = more.messagesNext
        }
        var eventsNext = detail.eventsNext
        while let next = eventsNext {
            page = DetailPage(
                messageLimit: 1, messagesAfter: messages.last?.id, eventLimit: DetailPage.maxLimit, eventsAfter: next
            )
            guard let more = try await store.questionDetail(id: id, page: page) else { break }
            events += more.events
            eventsNext = more.eventsNext
        }
        let helperFacts: Set<QuestionEventType> = [.levelChanged, .badgeAwarded, .helperPaused]
        return CustomerQuestionExport(
            question: detail.question, messages: messages, events: events.filter { !helperFacts.contains($0.type) },
            rating: try await store.rating(questionId: id)
        )
    }
}
