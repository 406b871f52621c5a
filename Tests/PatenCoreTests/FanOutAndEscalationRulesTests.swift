import Foundation
import PatenCore
import Testing

@Suite("Outbound fan-out and escalation transitions")
struct FanOutAndEscalationRulesTests {
    @Test("An event goes to its subscribers of every channel and to the question's own integration, never to others")
    func fanOut() {
        let subscribers = [
            OutboundSubscriber(id: "int_chat", events: [.questionReplied, .questionResolved], allChannels: false, paused: false),
            OutboundSubscriber(id: "int_tools", events: [.questionResolved], allChannels: true, paused: true),
            OutboundSubscriber(id: "int_other", events: [.questionResolved], allChannels: false, paused: false),
            OutboundSubscriber(id: "int_quiet", events: [.questionReplied], allChannels: true, paused: false),
        ]
        #expect(
            OutboundFanOut.deliveries(.questionResolved, questionChannel: "int_chat", subscribers: subscribers) == [
                OutboundDelivery(integrationId: "int_chat", toOrigin: true, waits: false),
                OutboundDelivery(integrationId: "int_tools", toOrigin: false, waits: true),
            ]
        )
        // A question asked over the API has no origin integration: only all-channel subscribers hear of it.
        #expect(
            OutboundFanOut.deliveries(.questionReplied, questionChannel: "api", subscribers: subscribers) == [
                OutboundDelivery(integrationId: "int_quiet", toOrigin: false, waits: false)
            ]
        )
    }

    @Test("Only an open escalation is acknowledged; a resolved one is not resolved again")
    func transitions() throws {
        func escalation(_ state: EscalationState) -> Escalation {
            let at = Date(millisecondsSince1970: 1_795_000_000_000)
            return Escalation(
                id: "esc_1", questionId: "q_1", reason: .manual, level: 2, state: state, note: nil, createdBy: nil,
                createdAt: at, acknowledgedAt: nil, acknowledgedBy: nil, resolvedAt: nil, resolvedBy: nil, updatedAt: at,
                questionSubject: "s", questionTopic: "t", questionPriority: .normal
            )
        }
        try EscalationRules.checkAcknowledge(escalation(.open))
        for state in [EscalationState.acknowledged, .resolved] {
            #expect(throws: PatenError.self) { try EscalationRules.checkAcknowledge(escalation(state)) }
        }
        #expect((try? EscalationRules.checkAcknowledge(escalation(.acknowledged))) == nil)
        try EscalationRules.checkResolve(escalation(.open))
        try EscalationRules.checkResolve(escalation(.acknowledged))
        let error = #expect(throws: PatenError.self) { try EscalationRules.checkResolve(escalation(.resolved)) }
        #expect(error?.code == "escalation_resolved")
    }
}
