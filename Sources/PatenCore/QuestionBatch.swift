import Foundation

/// One round of a batch of background changes (the sweep's, lease expiry's): the n-th write of every change, each
/// about a different question, grouped by shape so that a store writes each group with one statement. Within a round
/// the writes commute (each is about its own question); across rounds every question's writes keep their order.
public struct BatchRound: Sendable {
    /// Live claims to end, alike: one statement each.
    public var endedClaims: [(reason: ClaimEnd, at: Date, questionIds: [String])] = []
    /// Live clocks to end, alike: one statement each.
    public var endedTimers: [(targets: [SLATarget], status: SLAStatus, at: Date, questionIds: [String])] = []
    /// Clocks given a status and a next check: one statement for all.
    public var markedTimers: [(questionId: String, target: SLATarget, status: SLAStatus, nextCheckAt: Date?)] = []
    /// Clocks to start, with or without `onlyIfEnded`: one statement each.
    public var startedTimers: [(onlyIfEnded: Bool, timers: [(questionId: String, timer: SLATimer)])] = []
    /// Timeline events: one statement, then their outbox messages.
    public var events: [TimelineFact] = []
    /// Escalations: one statement, then the new ones' change-feed rows and events.
    public var escalations: [(question: Question, draft: EscalationDraft)] = []
    /// Writes no batch statement covers (messages, claims started or renewed, ratings, receipts): applied one at a
    /// time, as a lone change would.
    public var singles: [(question: Question, effect: QuestionEffect)] = []

    public init() {}
}

/// How a batch of changes is written as sets (`SQLiteStore+Batches.swift`, `PostgresStore+Batches.swift`).
public enum QuestionBatch {
    /// The batch's rounds, in order; the changes must be about distinct questions.
    public static func rounds(_ changes: [QuestionChange]) -> [BatchRound] {
        let count = changes.map(\.effects.count).max() ?? 0
        return (0..<count).map { index in
            var round = BatchRound()
            for change in changes where index < change.effects.count {
                round.add(change.effects[index], about: change.record.question)
            }
            return round
        }
    }
}

extension BatchRound {
    mutating func add(_ effect: QuestionEffect, about question: Question) {
        switch effect {
        case .endClaim(let reason, let at):
            if let group = endedClaims.firstIndex(where: { $0.reason == reason && $0.at == at }) {
                endedClaims[group].questionIds.append(question.id)
            } else {
                endedClaims.append((reason, at, [question.id]))
            }
        case .endTimers(let targets, let status, let at):
            if let group = endedTimers.firstIndex(where: { $0.targets == targets && $0.status == status && $0.at == at }) {
                endedTimers[group].questionIds.append(question.id)
            } else {
                endedTimers.append((targets, status, at, [question.id]))
            }
        case .markTimer(let target, let status, let next):
            markedTimers.append((question.id, target, status, next))
        case .startTimer(let timer, let onlyIfEnded):
            if let group = startedTimers.firstIndex(where: { $0.onlyIfEnded == onlyIfEnded }) {
                startedTimers[group].timers.append((question.id, timer))
            } else {
                startedTimers.append((onlyIfEnded, [(question.id, timer)]))
            }
        case .event(let fact):
            events.append(fact)
        case .escalation(let draft):
            escalations.append((question, draft))
        default:
            singles.append((question, effect))
        }
    }
}
