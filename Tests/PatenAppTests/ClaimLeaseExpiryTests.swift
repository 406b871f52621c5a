import Foundation
import Logging
import PatenApp
import PatenCore
import PatenTestSupport
import ServiceLifecycle
import Testing

@Suite("Claim lease expiry service")
struct ClaimLeaseExpiryTests {
    @Test("A tick frees every lease that ran out, and only those", arguments: Backend.available)
    func tick(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("staff1", .staff).helper
            let early = try await env.account("early", .volunteer).helper
            let late = try await env.account("late", .volunteer).helper
            let first = try await env.submit("first", by: staff)
            let second = try await env.submit("second", by: staff)
            _ = try await env.desk.claim(first.id, by: early)
            env.clock.advance(by: 20 * 60)
            _ = try await env.desk.claim(second.id, by: late)
            env.clock.advance(by: 11 * 60)
            let service = ClaimLeaseExpiry(
                desk: env.desk, interval: .seconds(60), clock: env.clock, logger: Logger(label: "test")
            )
            await service.tick()
            #expect(try await env.store.question(id: first.id)?.state == .open)
            #expect(try await env.store.question(id: second.id)?.holderId == late.id)
        }
    }

    @Test("Running, it wakes on its clock, frees due leases, and stops without error on graceful shutdown", arguments: Backend.available)
    func running(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("staff1", .staff).helper
            let volunteer = try await env.account("vol", .volunteer).helper
            let question = try await env.submit("Voicemail", by: staff)
            _ = try await env.desk.claim(question.id, by: volunteer)
            let service = ClaimLeaseExpiry(
                desk: env.desk, interval: .seconds(60), clock: env.clock, logger: Logger(label: "test")
            )
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: service)], logger: Logger(label: "test"))
            )
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                // When the lease runs out and the service's wait ends
                while env.clock.sleeperCount == 0 { await Task.yield() }
                env.clock.advance(by: 31 * 60)
                // Then, once it is asleep again, the question is free
                while env.clock.sleeperCount == 0 { await Task.yield() }
                #expect(try await env.store.question(id: question.id)?.state == .open)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }
}
