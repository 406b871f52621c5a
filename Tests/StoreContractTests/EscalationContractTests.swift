import Foundation
import PatenCore
import PatenTestSupport
import Testing

/// The same behaviour from every store: escalation lists, acknowledgement, resolution, the change feed, and the
/// outbound events they write.
@Suite("Store contract: escalations")
struct EscalationContractTests {
    static let start = AccountContractTests.start

    static func escalation(
        _ store: any AccountStore, _ id: String, question: String, reason: String, level: Int, at offset: Int64
    ) async throws {
        let ms = start.millisecondsSince1970 + offset
        try await execute(
            store,
            "INSERT INTO escalations (id, question_id, reason, level, state, note, created_at, updated_at) VALUES (?, ?, ?, ?, 'open', 'n', ?, ?)",
            [.text(id), .text(question), .text(reason), .int(Int64(level)), .int(ms), .int(ms)]
        )
        try await execute(
            store, "INSERT INTO escalation_changes (escalation_id, kind, at) VALUES (?, 'escalation.created', ?)", [.text(id), .int(ms)]
        )
    }

    @Test(
        "Escalations filter and order, move open → acknowledged → resolved once, feed their changes, and go out as events",
        arguments: Backend.available)
    func lifecycle(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertHelper(AccountContractTests.helper("h_admin", "admin", .admin))
            let sam = AccountContractTests.helper("h_sam", "sam", .staff)
            try await store.insertHelper(sam)
            try await store.insertIntegration(
                Integration(
                    id: "int_1", name: "tools", kind: .standard, state: .active, inboundEnabled: false,
                    outboundURL: "https://tools.example/hook", events: [.escalationAcknowledged, .escalationResolved],
                    allChannels: true, createdAt: Self.start, updatedAt: Self.start
                ),
                account: IntegrationContractTests.account("int_1", "tools"),
                secret: IntegrationContractTests.secret("sec_1", at: Self.start)
            )
            try await MetricsContractTests.question(store, "q_1", at: 0, tier: .staff, state: .open)
            try await Self.escalation(store, "esc_1", question: "q_1", reason: "critical_intake", level: 2, at: 0)
            try await Self.escalation(store, "esc_2", question: "q_1", reason: "sla_warning", level: 1, at: 60_000)

            let now = Self.start.addingTimeInterval(120)
            #expect(try await store.escalations(matching: EscalationFilter(), at: now).map(\.id) == ["esc_2", "esc_1"])
            #expect(try await store.escalations(matching: EscalationFilter(level: 2), at: now).map(\.id) == ["esc_1"])
            #expect(try await store.escalations(matching: EscalationFilter(minimumAge: 90), at: now).map(\.id) == ["esc_1"])
            #expect(try await store.escalations(matching: EscalationFilter(reason: .slaWarning, limit: 1), at: now).map(\.id) == ["esc_2"])
            #expect(try await store.escalation(id: "esc_1")?.questionSubject == "Subject")
            #expect(try await store.unresolvedEscalationCounts() == [1: 1, 2: 1])

            let acknowledged = try await store.acknowledgeEscalation(id: "esc_1", by: sam, at: now)
            #expect(acknowledged.state == .acknowledged && acknowledged.acknowledgedBy == "h_sam" && acknowledged.acknowledgedAt == now)
            let again = await #expect(throws: PatenError.self) { _ = try await store.acknowledgeEscalation(id: "esc_1", by: sam, at: now) }
            #expect(again?.code == "escalation_not_open")
            let resolved = try await store.resolveEscalation(id: "esc_2", by: sam, at: now)
            #expect(resolved.state == .resolved && resolved.acknowledgedBy == "h_sam" && resolved.resolvedAt == now)
            let twice = await #expect(throws: PatenError.self) { _ = try await store.resolveEscalation(id: "esc_2", by: sam, at: now) }
            #expect(twice?.code == "escalation_resolved")
            let missing = await #expect(throws: PatenError.self) { _ = try await store.resolveEscalation(id: "esc_9", by: sam, at: now) }
            #expect(missing?.kind == .notFound)
            #expect(try await store.unresolvedEscalationCounts() == [2: 1])

            let feed = try await store.escalationChanges(after: 0, limit: 10)
            #expect(feed.map(\.kind) == [.created, .created, .acknowledged, .resolved])
            #expect(feed.map(\.escalation.id) == ["esc_1", "esc_2", "esc_1", "esc_2"])
            #expect(try await store.escalationChanges(after: feed[1].sequence, limit: 1).map(\.kind) == [.acknowledged])
            #expect(try await store.latestEscalationChange() == feed[3].sequence)

            let sent = try await store.deliveries(integrationId: "int_1", state: .pending, before: nil, limit: 10)
            #expect(Set(sent.map(\.message.eventType)) == ["escalation.acknowledged", "escalation.resolved"])
            let payload = try #require(sent.first { $0.message.eventType == "escalation.resolved" }?.message.payload)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
            let data = try #require(json["data"] as? [String: Any])
            #expect((data["escalation"] as? [String: Any])?["id"] as? String == "esc_2")
            #expect((data["actor"] as? [String: Any])?["handle"] as? String == "sam")
            #expect(data["question_id"] as? String == "q_1")
        }
    }
}
