import Foundation

/// Orders claimable questions for one helper: best skill and language match first, then higher priority,
/// then longest waiting.
public struct QueueRanking: Sendable {
    private let skills: Set<String>
    private let languages: Set<String>

    /// Creates the ranking for a helper.
    public init(for helper: Helper) {
        skills = Set(helper.skills)
        languages = Set(helper.languages)
    }

    /// How well a question fits the helper: one point for the topic, one for the language.
    public func match(_ question: Question) -> Int {
        (skills.contains(question.topic) ? 1 : 0) + (languages.contains(question.language) ? 1 : 0)
    }

    /// The questions in queue order.
    public func rank(_ questions: [Question]) -> [Question] {
        questions
            .map { (question: $0, match: match($0)) }
            .sorted { lhs, rhs in
                if lhs.match != rhs.match { return lhs.match > rhs.match }
                if lhs.question.priority != rhs.question.priority {
                    return lhs.question.priority > rhs.question.priority
                }
                if lhs.question.createdAt != rhs.question.createdAt {
                    return lhs.question.createdAt < rhs.question.createdAt
                }
                return lhs.question.id < rhs.question.id
            }
            .map(\.question)
    }
}
