import Foundation
import PatenClient
import PatenCore

/// The client commands' text for the API's questions, escalations and metrics; customer text is made safe.
extension TerminalRenderer {
    /// Questions as a table, or a line saying there are none.
    public static func questions(_ questions: [Components.Schemas.Question], empty: String) -> String {
        guard !questions.isEmpty else { return empty }
        return table(
            ["ID", "PRIORITY", "TIER", "STATE", "TOPIC", "LANG", "WAITING", "SUBJECT"],
            questions.map { question in
                [
                    question.id, question.priority.rawValue, question.tier.rawValue, question.state.rawValue,
                    question.topic, question.language, age(since: question.createdAt), clip(question.subject, 50),
                ]
            }
        )
    }

    /// One question: its facts, then the conversation.
    public static func detail(_ detail: Components.Schemas.QuestionDetail) -> String {
        let question = detail.question
        var lines = [
            "\(safe(question.id))  \(safe(question.subject))",
            "state: \(question.state.rawValue)  tier: \(question.tier.rawValue)  priority: \(question.priority.rawValue)  "
                + "topic: \(safe(question.topic))  language: \(safe(question.language))",
            "customer: \(safe(question.customer.name)) (\(safe(question.customer.id)))",
        ]
        if let holder = question.holderHandle ?? question.holderId {
            let until = question.leaseExpiresAt.map { " until \(RFC3339.format($0))" } ?? ""
            lines.append("held by: \(safe(holder))\(until)")
        }
        if let incident = question.incident {
            lines.append("incident: \(safe(incident.id))  \(safe(incident.title)) (\(incident.state.rawValue))")
            if let update = incident.latestUpdate {
                lines.append("  latest \(update.kind.rawValue) [\(RFC3339.format(update.createdAt))]: \(oneLine(update.body, 100))")
            }
        }
        lines.append("")
        for message in detail.messages {
            let author = message.authorKind == .customer ? "customer" : safe(message.authorHandle ?? "helper")
            lines.append("[\(RFC3339.format(message.createdAt))] \(author):")
            let body = safe(message.body, multiline: true)
            lines.append(contentsOf: body.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 })
        }
        if let next = detail.messagesNextCursor {
            lines.append("")
            lines.append("More messages follow: paten show \(safe(question.id)) --after \(safe(next))")
        }
        return lines.joined(separator: "\n")
    }

    /// One line describing a question after an action.
    public static func summary(_ question: Components.Schemas.Question, _ verb: String) -> String {
        var line = "\(verb) \(safe(question.id)) (\(question.state.rawValue), \(question.tier.rawValue) tier)"
        if let expiry = question.leaseExpiresAt { line += "; lease until \(RFC3339.format(expiry))" }
        return line
    }

    /// Up to five similar solved questions, one line each: similarity, question, subject and the start of the
    /// credited answer; nothing when there are none.
    public static func similar(_ similar: Components.Schemas.SimilarList.SimilarPayload) -> String? {
        guard !similar.isEmpty else { return nil }
        var lines = ["Similar solved questions:"]
        for entry in similar.prefix(5) {
            var line = String(format: "  %3.0f%%  ", entry.similarity * 100)
            line += "\(safe(entry.question.id))  \(clip(safe(entry.question.subject), 50))"
            if let answer = entry.answer {
                line += " | \(safe(answer.helperHandle ?? "helper")): \(oneLine(answer.body, 60))"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// Escalations as a table, or a line saying there are none.
    public static func escalations(_ escalations: [Components.Schemas.Escalation]) -> String {
        guard !escalations.isEmpty else { return "No escalations." }
        return table(
            ["ID", "LEVEL", "REASON", "STATE", "AGE", "QUESTION", "SUBJECT"],
            escalations.map { escalation in
                [
                    escalation.id, String(escalation.level.rawValue), escalation.reason.rawValue, escalation.state.rawValue,
                    age(since: escalation.createdAt), escalation.questionId, clip(escalation.questionSubject, 40),
                ]
            }
        )
    }

    /// One line for an escalation event from the live stream.
    public static func escalationEvent(_ kind: String, _ escalation: Components.Schemas.Escalation) -> String {
        let what = safe(kind.replacingOccurrences(of: "escalation.", with: ""))
        var line = "[\(RFC3339.format(escalation.updatedAt))] \(what) L\(escalation.level.rawValue) \(escalation.reason.rawValue) "
        line += "\(safe(escalation.id)) on \(safe(escalation.questionId)) (\(escalation.questionPriority.rawValue)): "
        line += clip(safe(escalation.questionSubject), 60)
        if let note = escalation.note, kind == "escalation.created" { line += " | " + clip(safe(note), 80) }
        return line
    }

    /// Summary groups as a table.
    public static func summary(_ groups: [Components.Schemas.MetricsGroup]) -> String {
        func seconds(_ value: Double?) -> String {
            guard let value else { return "-" }
            return value < 120 ? "\(Int(value))s" : value < 7200 ? "\(Int(value / 60))m" : String(format: "%.1fh", value / 3600)
        }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.0f%%", $0 * 100) } ?? "-" }
        func count(_ value: Int?) -> String { value.map(String.init) ?? "-" }
        return table(
            ["GROUP", "QUESTIONS", "RESOLVED", "FIRST RESP p50", "p90", "RESOLUTION p50", "PEER SHARE", "ESCALATED", "CSAT", "SCORE"],
            groups.map { group in
                [
                    group.key ?? "-", count(group.questions), count(group.resolved), seconds(group.firstResponse?.median),
                    seconds(group.firstResponse?.p90), seconds(group.resolution?.median), percent(group.peerShare),
                    percent(group.escalationRate), percent(group.csat), group.meanScore.map { String(format: "%.2f", $0) } ?? "-",
                ]
            }
        )
    }
}
