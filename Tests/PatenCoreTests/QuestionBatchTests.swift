import Foundation
import PatenCore
import Testing

@Suite("Background batches written as sets")
struct QuestionBatchTests {
    let at = Date(millisecondsSince1970: 1_795_000_000_000)

    func question(_ id: String) -> Question {
        Question(
            id: id, subject: "s", customer: Customer(id: "c", name: "C"), channel: "api", topic: "general",
            language: "en", priority: .normal, tier: .volunteer, state: .open, createdBy: "h_1", createdAt: at,
            updatedAt: at
        )
    }

    func change(_ id: String, _ effects: [QuestionEffect]) -> QuestionChange {
        var change = QuestionChange(inserting: QuestionRecord(question: question(id)))
        change.before = change.record
        change.effects = effects
        return change
    }

    @Test("Round n holds each change's n-th write, alike writes grouped, every question's order kept")
    func rounds() {
        let stop = QuestionEffect.endTimers([.peerWindow], as: .stopped, at: at)
        let breach = QuestionEffect.endTimers([.peerWindow], as: .breached, at: at)
        let end = QuestionEffect.endClaim(.moved, at: at)
        let message = QuestionEffect.message(
            Message(id: "m_1", questionId: "q_2", authorKind: .helper, helperId: "h_1", body: "b", createdAt: at)
        )
        let rounds = QuestionBatch.rounds([
            change("q_1", [breach, end, stop]), change("q_2", [breach, message]), change("q_3", [stop]),
        ])
        #expect(rounds.count == 3)
        // Round 0: q_1 and q_2 breached together, q_3 stopped on its own: a statement per shape.
        #expect(rounds[0].endedTimers.map(\.questionIds) == [["q_1", "q_2"], ["q_3"]])
        #expect(rounds[0].endedTimers.map(\.status) == [.breached, .stopped])
        // Round 1: q_1's claim ends; q_2's message has no set statement and is written alone.
        #expect(rounds[1].endedClaims.map(\.questionIds) == [["q_1"]])
        #expect(rounds[1].singles.map(\.question.id) == ["q_2"])
        // Round 2: q_1's stop comes after its breach, never before.
        #expect(rounds[2].endedTimers.map(\.questionIds) == [["q_1"]])
        #expect(rounds[2].endedTimers.map(\.status) == [.stopped])
    }
}
