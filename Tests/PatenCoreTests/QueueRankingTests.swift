import Foundation
import PatenCore
import Testing

@Suite("Queue ranking")
struct QueueRankingTests {
    let start = Date(timeIntervalSince1970: 1_790_000_000)

    func question(_ id: String, topic: String, language: String, priority: Priority, age: TimeInterval) -> Question {
        Question(
            id: id, subject: id, customer: Customer(id: "c", name: "C"), channel: "api", topic: topic,
            language: language, priority: priority, tier: .volunteer, state: .open, createdBy: "h",
            createdAt: start.addingTimeInterval(-age), updatedAt: start
        )
    }

    @Test("Skill and language match first, then priority, then longest waiting")
    func order() {
        let helper = Helper(
            id: "h", handle: "vol", displayName: "Vol", role: .volunteer, skills: ["roaming"], languages: ["de"],
            capacity: 3, presence: .available, active: true, createdAt: start, updatedAt: start
        )
        let questions = [
            question("none-high", topic: "device", language: "en", priority: .high, age: 900),
            question("both-normal-new", topic: "roaming", language: "de", priority: .normal, age: 10),
            question("both-normal-old", topic: "roaming", language: "de", priority: .normal, age: 500),
            question("skill-only-high", topic: "roaming", language: "en", priority: .high, age: 100),
            question("both-low", topic: "roaming", language: "de", priority: .low, age: 1000),
            question("lang-only-normal", topic: "device", language: "de", priority: .normal, age: 2000),
        ]
        let ranked = QueueRanking(for: helper).rank(questions).map(\.id)
        #expect(
            ranked == [
                "both-normal-old", "both-normal-new", "both-low", "skill-only-high", "lang-only-normal", "none-high",
            ]
        )
    }
}
