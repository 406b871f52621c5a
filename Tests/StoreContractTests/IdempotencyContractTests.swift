import Foundation
import PatenCore
import PatenTestSupport
import Testing

/// The same behaviour from every store: an idempotency key is reserved by one request, marked with its write in the
/// write's transaction, replays its response, and is freed by a failure or by time only while nothing was written.
@Suite("Store contract: idempotency keys")
struct IdempotencyContractTests {
    static let start = AccountContractTests.start
    static let response = IdempotentResponse(status: 201, body: #"{"id":"q_1"}"#)

    static func scope(
        _ account: String = "h_1", route: String = "POST /v1/questions", key: String = "k-1"
    ) throws
        -> IdempotencyScope
    {
        IdempotencyScope(accountId: account, route: route, key: try IdempotencyKey(key))
    }

    static func record(
        _ scope: IdempotencyScope, fingerprint: String = "body-a", token: String, at time: Date = start
    ) -> IdempotencyRecord {
        IdempotencyRecord(scope: scope, fingerprint: fingerprint, token: token, createdAt: time)
    }

    static func accounts(_ store: any AccountStore) async throws {
        try await store.insertHelper(AccountContractTests.helper("h_1", "bridge", .integration))
        try await store.insertHelper(AccountContractTests.helper("h_2", "webform", .integration))
    }

    @Test(
        "A key is reserved once: the same body is in use until completed, then replayed; another body is refused",
        arguments: Backend.available
    )
    func lifecycle(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await Self.accounts(store)
            let scope = try Self.scope()
            #expect(try await store.reserveIdempotencyKey(Self.record(scope, token: "t1")) == .reserved)
            #expect(try await store.reserveIdempotencyKey(Self.record(scope, token: "t2")) == .inUse)
            #expect(try await store.reserveIdempotencyKey(Self.record(scope, fingerprint: "body-b", token: "t3")) == .reused)
            // Only the request holding the reservation may complete it.
            try await store.completeIdempotencyKey(scope, token: "t2", response: IdempotentResponse(status: 201, body: "{}"))
            #expect(try await store.idempotencyRecord(scope)?.response == nil)
            try await store.completeIdempotencyKey(scope, token: "t1", response: Self.response)
            #expect(
                try await store.idempotencyRecord(scope)
                    == IdempotencyRecord(
                        scope: scope, fingerprint: "body-a", token: "t1", createdAt: Self.start, response: Self.response))

            let later = Self.start.addingTimeInterval(3600)
            #expect(try await store.reserveIdempotencyKey(Self.record(scope, token: "t4", at: later)) == .replay(Self.response))
            #expect(
                try await store.reserveIdempotencyKey(Self.record(scope, fingerprint: "body-b", token: "t5", at: later)) == .reused)
            // A completed record is never released: its change was made.
            try await store.releaseIdempotencyKey(scope, token: "t1")
            #expect(try await store.idempotencyRecord(scope)?.response == Self.response)
        }
    }

    @Test("Keys are scoped per account and per route", arguments: Backend.available)
    func scopes(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await Self.accounts(store)
            #expect(try await store.reserveIdempotencyKey(Self.record(try Self.scope(), token: "t1")) == .reserved)
            #expect(try await store.reserveIdempotencyKey(Self.record(try Self.scope("h_2"), token: "t2")) == .reserved)
            let messages = try Self.scope(route: "POST /v1/questions/q_1/messages")
            #expect(try await store.reserveIdempotencyKey(Self.record(messages, token: "t3")) == .reserved)
            #expect(try await store.reserveIdempotencyKey(Self.record(try Self.scope(key: "k-2"), token: "t4")) == .reserved)
            #expect(try await store.count("SELECT COUNT(*) FROM idempotency_keys") == 4)
        }
    }

    @Test("A released reservation frees the key for any body; a stale token releases nothing", arguments: Backend.available)
    func release(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await Self.accounts(store)
            let scope = try Self.scope()
            #expect(try await store.reserveIdempotencyKey(Self.record(scope, token: "t1")) == .reserved)
            try await store.releaseIdempotencyKey(scope, token: "other")
            #expect(try await store.idempotencyRecord(scope)?.token == "t1")
            try await store.releaseIdempotencyKey(scope, token: "t1")
            #expect(try await store.idempotencyRecord(scope) == nil)
            #expect(try await store.reserveIdempotencyKey(Self.record(scope, fingerprint: "body-b", token: "t2")) == .reserved)
        }
    }

    @Test(
        "A reservation whose request never finished lapses; a response lasts 24 hours; expired records are purged in batches",
        arguments: Backend.available
    )
    func lapse(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await Self.accounts(store)
            let scope = try Self.scope()
            #expect(try await store.reserveIdempotencyKey(Self.record(scope, token: "t1")) == .reserved)
            let stale = Self.start.addingTimeInterval(IdempotencyKey.reservationTimeout)
            #expect(try await store.reserveIdempotencyKey(Self.record(scope, token: "t2", at: stale)) == .reserved)
            // The lost request, finishing late, no longer owns the key.
            try await store.completeIdempotencyKey(scope, token: "t1", response: Self.response)
            #expect(try await store.idempotencyRecord(scope)?.response == nil)
            try await store.completeIdempotencyKey(scope, token: "t2", response: Self.response)
            let almost = stale.addingTimeInterval(IdempotencyKey.lifetime - 1)
            #expect(try await store.reserveIdempotencyKey(Self.record(scope, token: "t3", at: almost)) == .replay(Self.response))
            let expired = stale.addingTimeInterval(IdempotencyKey.lifetime)
            #expect(try await store.reserveIdempotencyKey(Self.record(scope, fingerprint: "body-b", token: "t4", at: expired)) == .reserved)

            // Given more expired records than one batch, each reservation deletes one batch of them.
            let backlog = IdempotencyKey.purgeBatch + 5
            for index in 0..<backlog {
                _ = try await store.reserveIdempotencyKey(Self.record(try Self.scope("h_2", key: "old-\(index)"), token: "o\(index)"))
            }
            let dayLater = Self.start.addingTimeInterval(IdempotencyKey.lifetime)
            _ = try await store.reserveIdempotencyKey(Self.record(try Self.scope(key: "new-1"), token: "n1", at: dayLater))
            #expect(try await store.count("SELECT COUNT(*) FROM idempotency_keys WHERE account_id = 'h_2'") == 5)
            _ = try await store.reserveIdempotencyKey(Self.record(try Self.scope(key: "new-2"), token: "n2", at: dayLater))
            #expect(try await store.count("SELECT COUNT(*) FROM idempotency_keys WHERE account_id = 'h_2'") == 0)
            #expect(try await store.idempotencyRecord(scope)?.token == "t4")
        }
    }

    @Test("Of 20 concurrent requests under one key, exactly one is reserved; the rest are told it is in use", arguments: Backend.available)
    func concurrent(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await Self.accounts(store)
            let scope = try Self.scope()
            let decisions = try await withThrowingTaskGroup(of: IdempotencyDecision.self) { group in
                for index in 0..<20 {
                    group.addTask { try await store.reserveIdempotencyKey(Self.record(scope, token: "t\(index)")) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(decisions.filter { $0 == .reserved }.count == 1)
            #expect(decisions.filter { $0 == .inUse }.count == 19)
        }
    }

    static func context(at time: Date = start) throws -> ChangeContext {
        ChangeContext(now: time, planner: SLAPlanner(policy: try defaultPolicy()), ids: RandomIdentifierGenerator())
    }

    /// A new question submitted by the integration account `h_1`.
    static func draft(_ id: String, at time: Date = start) -> QuestionDraft {
        QuestionDraft(
            question: Question(
                id: id, subject: "eSIM", customer: Customer(id: "c-1", name: "Ann"), channel: "h_1", topic: "esim",
                language: "de", priority: .normal, tier: .staff, state: .open, createdBy: "h_1", createdAt: time,
                updatedAt: time
            ),
            body: "It will not activate.", routingReason: "topic"
        )
    }

    @Test(
        "A question written under a reservation is marked on it in its transaction: the key never lapses or is released",
        arguments: Backend.available
    )
    func writtenQuestion(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await Self.accounts(store)
            let scope = try Self.scope()
            let first = Self.record(scope, token: "t1")
            #expect(try await store.reserveIdempotencyKey(first) == .reserved)
            _ = try await store.insertQuestion(
                Self.draft("q_1"), messageId: "m_1", idempotency: first.reservation, context: try Self.context()
            )
            let write = IdempotentWrite(questionId: "q_1")
            #expect(try await store.idempotencyRecord(scope)?.write == write)
            // Its response was never stored (storing it failed, or the process died): the write still holds the key.
            try await store.releaseIdempotencyKey(scope, token: "t1")
            let late = Self.start.addingTimeInterval(IdempotencyKey.reservationTimeout * 10)
            #expect(
                try await store.reserveIdempotencyKey(Self.record(scope, token: "t2", at: late))
                    == .unanswered(write, first.reservation))
            #expect(try await store.reserveIdempotencyKey(Self.record(scope, fingerprint: "body-b", token: "t3", at: late)) == .reused)
            #expect(try await store.idempotentWriteResult(write)?.question.id == "q_1")
            #expect(try await store.idempotentWriteResult(write)?.message == nil)
            #expect(try await store.idempotentWriteResult(IdempotentWrite(questionId: "q_gone")) == nil)
            // The rebuilt response is stored once; a second completion (the original request, finishing late) keeps it.
            try await store.completeIdempotencyKey(scope, token: "t1", response: Self.response)
            try await store.completeIdempotencyKey(scope, token: "t1", response: IdempotentResponse(status: 201, body: "{}"))
            #expect(try await store.reserveIdempotencyKey(Self.record(scope, token: "t4", at: late)) == .replay(Self.response))
            #expect(try await store.count("SELECT COUNT(*) FROM questions") == 1)
            // Only once the key's lifetime is over may it be used again.
            let expired = Self.start.addingTimeInterval(IdempotencyKey.lifetime)
            #expect(try await store.reserveIdempotencyKey(Self.record(scope, token: "t5", at: expired)) == .reserved)
        }
    }

    @Test("A follow-up written under a reservation is marked with its message and question", arguments: Backend.available)
    func writtenMessage(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await Self.accounts(store)
            _ = try await store.insertQuestion(Self.draft("q_1"), messageId: "m_1", idempotency: nil, context: try Self.context())
            let scope = try Self.scope(route: "POST /v1/questions/q_1/messages")
            let first = Self.record(scope, token: "t1")
            #expect(try await store.reserveIdempotencyKey(first) == .reserved)
            let bridge = AccountContractTests.helper("h_1", "bridge", .integration)
            _ = try await store.addCustomerMessage(
                questionId: "q_1", by: bridge, messageId: "m_2", body: "Any news?", origin: nil,
                routing: FollowUpRouting(), idempotency: first.reservation, context: try Self.context()
            )
            let write = IdempotentWrite(questionId: "q_1", messageId: "m_2")
            let late = Self.start.addingTimeInterval(IdempotencyKey.reservationTimeout)
            #expect(
                try await store.reserveIdempotencyKey(Self.record(scope, token: "t2", at: late))
                    == .unanswered(write, first.reservation))
            let result = try #require(try await store.idempotentWriteResult(write))
            #expect(result.question.id == "q_1")
            #expect(result.message?.id == "m_2")
            #expect(result.message?.body == "Any news?")
            #expect(try await store.count("SELECT COUNT(*) FROM messages") == 2)
        }
    }

    @Test(
        "A request slower than its reservation, whose key a retry took over, has its write refused and rolled back",
        arguments: Backend.available
    )
    func lostReservation(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await Self.accounts(store)
            let scope = try Self.scope()
            let slow = Self.record(scope, token: "t1")
            #expect(try await store.reserveIdempotencyKey(slow) == .reserved)
            let stale = Self.start.addingTimeInterval(IdempotencyKey.reservationTimeout)
            let retry = Self.record(scope, token: "t2", at: stale)
            #expect(try await store.reserveIdempotencyKey(retry) == .reserved)
            let refused = await #expect(throws: PatenError.self) {
                _ = try await store.insertQuestion(
                    Self.draft("q_1"), messageId: "m_1", idempotency: slow.reservation, context: try Self.context()
                )
            }
            #expect(refused?.code == "idempotency_key_in_use")
            #expect(try await store.count("SELECT COUNT(*) FROM questions") == 0)
            #expect(try await store.count("SELECT COUNT(*) FROM messages") == 0)
            _ = try await store.insertQuestion(
                Self.draft("q_2", at: stale), messageId: "m_2", idempotency: retry.reservation,
                context: try Self.context(at: stale)
            )
            // A write already marked holds the key: another under the same reservation is refused too.
            let twice = await #expect(throws: PatenError.self) {
                _ = try await store.insertQuestion(
                    Self.draft("q_3", at: stale), messageId: "m_3", idempotency: retry.reservation,
                    context: try Self.context(at: stale)
                )
            }
            #expect(twice?.code == "idempotency_key_in_use")
            #expect(try await store.idempotencyRecord(scope)?.write == IdempotentWrite(questionId: "q_2"))

            // The same for a follow-up: the slow request's message is not stored.
            let messages = try Self.scope(route: "POST /v1/questions/q_2/messages")
            let slowMessage = Self.record(messages, token: "t3", at: stale)
            #expect(try await store.reserveIdempotencyKey(slowMessage) == .reserved)
            let later = stale.addingTimeInterval(IdempotencyKey.reservationTimeout)
            #expect(try await store.reserveIdempotencyKey(Self.record(messages, token: "t4", at: later)) == .reserved)
            let lost = await #expect(throws: PatenError.self) {
                _ = try await store.addCustomerMessage(
                    questionId: "q_2", by: AccountContractTests.helper("h_1", "bridge", .integration), messageId: "m_4",
                    body: "Any news?", origin: nil, routing: FollowUpRouting(), idempotency: slowMessage.reservation,
                    context: try Self.context(at: later)
                )
            }
            #expect(lost?.code == "idempotency_key_in_use")
            #expect(try await store.count("SELECT COUNT(*) FROM messages") == 1)
        }
    }

    @Test("A key is 1 to 255 printable ASCII characters")
    func keyFormat() throws {
        for valid in ["a", "8e0f6c1e-3d5b-4d1a-9a57-0b8f0f6f2f1c", String(repeating: "k", count: 255), "key with spaces ~!"] {
            #expect(try IdempotencyKey(valid).value == valid)
        }
        for invalid in ["", String(repeating: "k", count: 256), "schlüssel", "tab\there", "nul\u{0}", "line\nbreak", "del\u{7F}"] {
            let error = #expect(throws: PatenError.self) { try IdempotencyKey(invalid) }
            #expect(error?.code == "invalid_idempotency_key")
            #expect(error?.kind == .malformed)
        }
    }
}
