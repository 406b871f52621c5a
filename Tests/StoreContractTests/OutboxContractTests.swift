import Foundation
import PatenCore
import PatenTestSupport
import Testing

/// The same behaviour from every store: the outbox's claims, results, log and redelivery.
@Suite("Store contract: outbox")
struct OutboxContractTests {
    static let start = AccountContractTests.start

    /// An integration with an endpoint, and `count` messages written a second apart.
    static func setUp(_ store: any AccountStore, count: Int, id: String = "int_1", name: String = "bridge") async throws {
        try await store.insertIntegration(
            IntegrationContractTests.integration(id, name), account: IntegrationContractTests.account(id, name),
            secret: IntegrationContractTests.secret("sec_\(id)", at: start)
        )
        for index in 0..<count {
            try await insertOutboxMessage(
                store, id: "msg_\(id)_\(index)", integrationId: id, at: start.addingTimeInterval(Double(index))
            )
        }
    }

    static func report(_ due: DueDelivery, _ disposition: DeliveryDisposition, at time: Date, status: Int = 500) -> AttemptReport {
        AttemptReport(
            messageId: due.message.id, integrationId: due.message.integrationId, claimToken: due.claimToken,
            attempt: DeliveryAttempt(
                attempt: 0, at: time, outcome: disposition == .delivered ? .delivered : .failed,
                statusCode: disposition == .delivered ? 204 : status, latencyMs: 12,
                error: disposition == .delivered ? nil : "HTTP \(status)"),
            disposition: disposition, failingLimit: 5 * 86400
        )
    }

    @Test(
        "Due messages are claimed in write order under a lease, renewed, released; busy endpoints are skipped", arguments: Backend.available
    )
    func claims(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await Self.setUp(store, count: 3)
            let now = Self.start.addingTimeInterval(10)
            let first = try await store.claimDueMessages(at: now, lease: 60, limit: 2, excluding: [])
            #expect(first.map(\.message.id) == ["msg_int_1_0", "msg_int_1_1"])
            #expect(first.allSatisfy { $0.url == "https://bridge.example/hook" && $0.secrets.map(\.id) == ["sec_int_1"] })
            #expect(Set(first.map(\.claimToken)).count == 2)
            #expect(try await store.claimDueMessages(at: now, lease: 60, limit: 10, excluding: ["int_1"]).isEmpty)
            let rest = try await store.claimDueMessages(at: now, lease: 60, limit: 10, excluding: [])
            #expect(rest.map(\.message.id) == ["msg_int_1_2"])
            #expect(try await store.claimDueMessages(at: now, lease: 60, limit: 10, excluding: []).isEmpty)
            let held = try await store.renewClaims(first.map(\.claimToken) + ["clm_unknown"], until: now.addingTimeInterval(120))
            #expect(held == Set(first.map(\.claimToken)))
            try await store.releaseClaims([first[1].claimToken], nextAttemptAt: now.addingTimeInterval(30))
            #expect(try await store.claimDueMessages(at: now.addingTimeInterval(29), lease: 60, limit: 10, excluding: []).isEmpty)
            let again = try await store.claimDueMessages(at: now.addingTimeInterval(30), lease: 60, limit: 10, excluding: [])
            #expect(again.map(\.message.id) == ["msg_int_1_1"])
            // The first claim's lease ran out at +180 s: another deliverer may take it, and the old token is dead.
            let late = try await store.claimDueMessages(at: now.addingTimeInterval(200), lease: 60, limit: 10, excluding: [])
            #expect(Set(late.map(\.message.id)) == ["msg_int_1_0", "msg_int_1_1", "msg_int_1_2"])
            #expect(try await store.renewClaims([first[0].claimToken], until: now.addingTimeInterval(300)).isEmpty)
        }
    }

    @Test(
        "Only the claim's holder moves a message; results are logged in order; 410 disables the endpoint and pauses the rest",
        arguments: Backend.available)
    func results(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await Self.setUp(store, count: 3)
            let now = Self.start.addingTimeInterval(10)
            let due = try await store.claimDueMessages(at: now, lease: 60, limit: 10, excluding: [])
            #expect(try await store.finishAttempt(Self.report(due[0], .delivered, at: now)))
            var stale = Self.report(due[1], .delivered, at: now)
            stale.claimToken = "clm_stale"
            #expect(try await store.finishAttempt(stale))
            #expect(try await store.finishAttempt(Self.report(due[1], .retry(at: now.addingTimeInterval(5)), at: now)))
            let record = try #require(try await store.delivery(id: due[1].message.id))
            #expect(record.message.state == .pending && record.message.attempts == 1)
            #expect(record.message.nextAttemptAt == now.addingTimeInterval(5))
            #expect(record.attempts.map(\.attempt) == [1, 2])
            #expect(try await store.delivery(id: due[0].message.id)?.message.state == .delivered)
            #expect(try await store.integration(id: "int_1")?.failingSince == now)

            #expect(try await store.finishAttempt(Self.report(due[2], .endpointGone, at: now, status: 410)) == false)
            #expect(try await store.delivery(id: due[2].message.id)?.message.state == .dead)
            let integration = try #require(try await store.integration(id: "int_1"))
            #expect(integration.outboundDisabledReason == "the endpoint answered 410 Gone")
            #expect(try await store.delivery(id: due[1].message.id)?.message.nextAttemptAt == nil)
            #expect(try await store.claimDueMessages(at: now.addingTimeInterval(60), lease: 60, limit: 10, excluding: []).isEmpty)
            #expect(try await store.messageCounts() == [.pending: 1, .delivered: 1, .dead: 1])
        }
    }

    @Test(
        "An endpoint failing for the limit is disabled; redelivery keeps ids; the log pages; old messages are purged",
        arguments: Backend.available)
    func logAndRedelivery(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await Self.setUp(store, count: 3)
            var now = Self.start.addingTimeInterval(10)
            let due = try await store.claimDueMessages(at: now, lease: 60, limit: 10, excluding: [])
            #expect(try await store.finishAttempt(Self.report(due[1], .delivered, at: now)))
            // The failing run starts here; a success would end it.
            #expect(try await store.finishAttempt(Self.report(due[0], .deadLetter, at: now)))
            let inFlight = await #expect(throws: PatenError.self) { _ = try await store.redeliver(messageId: due[2].message.id, at: now) }
            #expect(inFlight?.code == "delivery_in_flight")
            now = now.addingTimeInterval(5 * 86400)
            #expect(try await store.finishAttempt(Self.report(due[2], .retry(at: now), at: now)) == false)
            #expect(try await store.integration(id: "int_1")?.outboundDisabledReason?.hasPrefix("every attempt failed for 5 days") == true)

            _ = try await store.updateIntegration(id: "int_1", change: IntegrationChange(outboundEnabled: true), at: now)
            let again = try await store.redeliver(messageId: due[0].message.id, at: now)
            #expect(again.id == due[0].message.id && again.state == .pending && again.attempts == 0)
            #expect(try await store.redeliver(integrationId: "int_1", since: Self.start, at: now) == 1)
            let page = try await store.deliveries(integrationId: "int_1", state: nil, before: nil, limit: 2)
            #expect(page.map(\.message.id) == ["msg_int_1_2", "msg_int_1_1"])
            let next = try await store.deliveries(
                integrationId: "int_1", state: nil,
                before: QuestionCursor(createdAt: page[1].message.createdAt, id: page[1].message.id), limit: 2
            )
            #expect(next.map(\.message.id) == ["msg_int_1_0"])
            #expect(try await store.deliveries(integrationId: "int_1", state: .pending, before: nil, limit: 10).count == 3)

            let redone = try await store.claimDueMessages(at: now, lease: 60, limit: 10, excluding: [])
            for item in redone { _ = try await store.finishAttempt(Self.report(item, .delivered, at: now)) }
            #expect(try await store.purgeMessages(deliveredBefore: now, deadBefore: now) == 0)
            #expect(try await store.purgeMessages(deliveredBefore: now.addingTimeInterval(1), deadBefore: now) == 3)
            #expect(try await store.messageCounts() == [.pending: 0, .delivered: 0, .dead: 0])
        }
    }

    @Test("Eight deliverers claiming at once take each message exactly once", arguments: Backend.available)
    func concurrentClaims(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await Self.setUp(store, count: 50)
            let now = Self.start.addingTimeInterval(100)
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var mine: [String] = []
                        while true {
                            let batch = try await store.claimDueMessages(at: now, lease: 60, limit: 3, excluding: [])
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.message.id)
                        }
                    }
                }
                var all: [String] = []
                for try await ids in group { all += ids }
                return all
            }
            #expect(claimed.count == 50)
            #expect(Set(claimed).count == 50)
        }
    }
}
