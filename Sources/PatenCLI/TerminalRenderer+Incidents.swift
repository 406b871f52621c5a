import Foundation
import PatenClient
import PatenCore

/// The incident commands' text for the API's incident resources; customer text is made safe for the terminal.
extension TerminalRenderer {
    /// Incidents as a table, or a line saying there are none.
    static func incidents(_ page: Components.Schemas.IncidentList) -> String {
        guard !page.incidents.isEmpty else { return "No incidents." }
        var text = table(
            ["ID", "STATE", "QUESTIONS", "OPEN", "OBSERVED", "EXPECTED", "LAST SEEN", "TITLE"],
            page.incidents.map { incident in
                [
                    incident.id, incident.state.rawValue, String(incident.questionCount), String(incident.openQuestions),
                    String(incident.observed), String(incident.expected),
                    incident.lastSeenAt.map { age(since: $0) } ?? "-", clip(incident.title, 50),
                ]
            }
        )
        if let next = page.nextCursor {
            text += "\n\nMore incidents follow: paten incidents list --cursor \(safe(next))"
        }
        return text
    }

    /// One incident: what opened it, what its questions say now, its latest updates and a page of its questions.
    static func incident(_ detail: Components.Schemas.IncidentDetail, updates shown: Int = 5) -> String {
        let incident = detail.incident
        var lines = ["\(safe(incident.id))  \(safe(incident.title))", incidentState(incident)]
        lines.append(
            "surge: \(incident.observed) questions in \(surgeWindow(incident.windowSeconds)) against \(incident.expected) "
                + String(format: "expected (p = %.2g)", incident.probability)
        )
        lines.append(
            "top terms: " + (incident.topTerms.isEmpty ? "-" : incident.topTerms.map { safe($0) }.joined(separator: ", "))
        )
        lines.append("questions: \(incident.questionCount) (\(incident.openQuestions) open)")
        lines.append(
            "topics: \(incidentCounts(incident.topics.additionalProperties))  languages: \(incidentCounts(incident.languages.additionalProperties))"
        )
        lines.append(
            "first seen: \(incident.firstSeenAt.map(RFC3339.format) ?? "-")  "
                + "last seen: \(incident.lastSeenAt.map(RFC3339.format) ?? "-")"
        )
        lines.append("")
        if detail.updates.isEmpty {
            lines.append("No updates yet.")
        } else {
            let earlier = detail.updates.count - min(shown, detail.updates.count)
            lines.append("Latest updates" + (earlier > 0 ? " (\(earlier) earlier; --json shows them):" : ":"))
            for update in detail.updates.suffix(shown) {
                lines.append("[\(RFC3339.format(update.createdAt))] \(update.kind.rawValue) by \(safe(update.createdBy)):")
                let body = safe(update.body, multiline: true)
                lines.append(contentsOf: body.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 })
            }
        }
        lines.append("")
        if detail.questions.isEmpty {
            lines.append("No linked questions.")
        } else {
            lines.append(
                table(
                    ["ID", "STATE", "TIER", "TOPIC", "LANG", "LINK", "AGE", "SUBJECT"],
                    detail.questions.map { question in
                        [
                            question.id, question.state.rawValue, question.tier.rawValue, question.topic, question.language,
                            question.link.rawValue, age(since: question.createdAt), clip(question.subject, 50),
                        ]
                    }
                )
            )
        }
        if let next = detail.questionsNextCursor {
            lines.append("")
            lines.append("More questions follow: paten incidents show \(safe(incident.id)) --questions-after \(safe(next))")
        }
        return lines.joined(separator: "\n")
    }

    /// One line describing an incident after an action.
    static func incidentSummary(_ incident: Components.Schemas.Incident, _ verb: String) -> String {
        var line = "\(verb) \(safe(incident.id)) (\(incident.state.rawValue); \(incident.questionCount) questions, "
        line += "\(incident.openQuestions) open)"
        if let into = incident.mergedInto { line += "; merged into \(safe(into))" }
        return line
    }

    private static func incidentState(_ incident: Components.Schemas.Incident) -> String {
        var line = "state: \(incident.state.rawValue)  opened: \(RFC3339.format(incident.openedAt))"
        if let resolved = incident.resolvedAt {
            line += "  resolved: \(RFC3339.format(resolved))" + (incident.resolvedBy.map { " by \(safe($0))" } ?? "")
        }
        if let into = incident.mergedInto { line += "  merged into: \(safe(into))" }
        return line
    }

    private static func incidentCounts(_ counts: [String: Int]) -> String {
        guard !counts.isEmpty else { return "-" }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\(safe($0.key)) \($0.value)" }.joined(separator: ", ")
    }

    private static func surgeWindow(_ seconds: Int) -> String {
        switch seconds {
        case ..<120: "\(seconds)s"
        case ..<7200: "\(seconds / 60)m"
        default: seconds % 3600 == 0 ? "\(seconds / 3600)h" : String(format: "%.1fh", Double(seconds) / 3600)
        }
    }
}
