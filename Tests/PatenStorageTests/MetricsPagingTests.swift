import Foundation
import PatenCore
import PatenStorage
import PatenTestSupport
import Testing

@Suite("Metrics paging")
struct MetricsPagingTests {
    @Test("The export walks every question of the period exactly once, in order, across pages", arguments: Backend.available)
    func everyRowOnce(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let admin = try await env.account("boss", .admin).helper
            let written = try await env.store.seedOpenQuestions(
                count: 2500, dueCount: 0, spread: false, createdBy: admin.id, at: env.clock.now())
            #expect(written == 2500)
            let (from, to) = try env.runtime.metrics.period(from: nil, to: env.clock.now())
            var seen: [QuestionMetrics] = []
            var pages = 0
            try await env.runtime.metrics.forEachPage(from: from, to: to) { page in
                pages += 1
                seen += page
            }
            #expect(pages == 3)
            #expect(seen.count == 2500)
            #expect(Set(seen.map(\.id)).count == 2500)
            #expect(zip(seen, seen.dropFirst()).allSatisfy { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) })
            // A period that starts later excludes what came before it.
            let later = try env.runtime.metrics.period(from: seen[1000].createdAt, to: to)
            var count = 0
            try await env.runtime.metrics.forEachPage(from: later.from, to: later.to) { count += $0.count }
            #expect(count == 1500)
        }
    }
}
