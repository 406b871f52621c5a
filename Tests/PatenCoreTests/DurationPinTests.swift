import Foundation
import PatenCore
import Testing

/// A deterministic source of randomness (SplitMix64), so that a draw that breaks the bounds can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Durations a user can feel: claim leases and webhook retries")
struct DurationPinTests {
    let claimedAt = utc("2026-11-23T10:00:00Z")

    func claimed(leaseExpiresAt: Date?) -> Question {
        Question(
            id: "q1", subject: "Router", customer: Customer(id: "c1", name: "Ada"), channel: "api", topic: "general",
            language: "en", priority: .normal, tier: .volunteer, state: .claimed, holderId: "h1",
            leaseExpiresAt: leaseExpiresAt, createdBy: "h0", createdAt: claimedAt, updatedAt: claimedAt
        )
    }

    func volunteer(_ id: String) -> Helper {
        Helper(
            id: id, handle: id, displayName: id, role: .volunteer, skills: [], languages: ["en"], capacity: 3,
            presence: .available, active: true, createdAt: claimedAt, updatedAt: claimedAt
        )
    }

    @Test("A claim lease is held until its last instant and free for others at exactly its end")
    func leaseBoundary() throws {
        let expiry = claimedAt.addingTimeInterval(30 * 60)
        let question = claimed(leaseExpiresAt: expiry)
        #expect(!question.isClaimable(at: expiry.addingTimeInterval(-0.001)))
        #expect(question.isClaimable(at: expiry))
        #expect(question.isClaimable(at: expiry.addingTimeInterval(0.001)))
        // Another volunteer is refused a millisecond before the end and admitted at the end itself.
        #expect(throws: PatenError.self) {
            try QuestionRules.checkClaim(
                question, by: volunteer("h2"), activeClaims: 0, holderHandle: "h1", at: expiry.addingTimeInterval(-0.001)
            )
        }
        try QuestionRules.checkClaim(question, by: volunteer("h2"), activeClaims: 0, holderHandle: "h1", at: expiry)
        // A claimed question with no lease on record is free, not held for ever.
        #expect(claimed(leaseExpiresAt: nil).isClaimable(at: claimedAt))
    }

    @Test("Failed webhooks are retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, then given up")
    func standardSchedule() throws {
        let schedule = RetrySchedule.standard
        #expect(schedule.delays == [5, 300, 1800, 7200, 18000, 36000, 36000])
        #expect(schedule.maxAttempts == 8)
        var generator = SeededGenerator(state: 1)
        #expect(schedule.delay(afterFailedAttempts: 0, using: &generator) == nil)
        #expect(schedule.delay(afterFailedAttempts: 8, using: &generator) == nil)
        #expect(try RetrySchedule.parse("5s,5m,30m,2h,5h,10h,10h") == schedule)
    }

    @Test("Each retry wait is spread by at most 20 % either way, and the spread is used")
    func jitterBounds() {
        let schedule = RetrySchedule.standard
        var generator = SeededGenerator(state: 42)
        var ratios: [Double] = []
        for _ in 0..<2000 {
            for attempt in 1...schedule.delays.count {
                let wait = schedule.delay(afterFailedAttempts: attempt, using: &generator) ?? .nan
                ratios.append(wait / schedule.delays[attempt - 1])
            }
        }
        #expect(ratios.allSatisfy { (0.8...1.2).contains($0) })
        // Spread, not a fixed wait: draws reach near both ends and centre on the scheduled wait.
        #expect((ratios.min() ?? 1) < 0.81)
        #expect((ratios.max() ?? 1) > 1.19)
        #expect(abs(ratios.reduce(0, +) / Double(ratios.count) - 1) < 0.01)
    }

    @Test("A receiver's Retry-After replaces the wait, unjittered, between 1 second and a day")
    func retryAfter() {
        var generator = SeededGenerator(state: 7)
        let schedule = RetrySchedule.standard
        #expect(schedule.delay(afterFailedAttempts: 1, retryAfter: 120, using: &generator) == 120)
        #expect(schedule.delay(afterFailedAttempts: 1, retryAfter: 0, using: &generator) == 1)
        #expect(schedule.delay(afterFailedAttempts: 1, retryAfter: 3 * 86400, using: &generator) == 86400)
    }
}
