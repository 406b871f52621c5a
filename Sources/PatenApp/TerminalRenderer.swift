import Foundation
import PatenCore
import PatenHTTP

/// Human-readable output for the CLI: aligned tables and a question's conversation.
public enum TerminalRenderer {
    /// A table with a header row; columns are padded to their widest cell.
    public static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// Questions as a table, or a line saying there are none.
    public static func questions(_ questions: [QuestionResource], empty: String) -> String {
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
    public static func detail(_ detail: QuestionDetailResource) -> String {
        let question = detail.question
        var lines = [
            "\(question.id)  \(question.subject)",
            "state: \(question.state.rawValue)  tier: \(question.tier.rawValue)  priority: \(question.priority.rawValue)  "
                + "topic: \(question.topic)  language: \(question.language)",
            "customer: \(question.customer.name) (\(question.customer.id))",
        ]
        if let holder = question.holderHandle ?? question.holderId {
            let until = question.leaseExpiresAt.map { " until \(APICoding.format($0))" } ?? ""
            lines.append("held by: \(holder)\(until)")
        }
        lines.append("")
        for message in detail.messages {
            let author = message.authorKind == .customer ? "customer" : (message.authorHandle ?? "helper")
            lines.append("[\(APICoding.format(message.createdAt))] \(author):")
            lines.append(contentsOf: message.body.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 })
        }
        return lines.joined(separator: "\n")
    }

    /// One line describing a question after an action.
    public static func summary(_ question: QuestionResource, _ verb: String) -> String {
        var line = "\(verb) \(question.id) (\(question.state.rawValue), \(question.tier.rawValue) tier)"
        if let expiry = question.leaseExpiresAt { line += "; lease until \(APICoding.format(expiry))" }
        return line
    }

    /// Escalations as a table, or a line saying there are none.
    public static func escalations(_ escalations: [EscalationResource]) -> String {
        guard !escalations.isEmpty else { return "No escalations." }
        return table(
            ["ID", "LEVEL", "REASON", "STATE", "AGE", "QUESTION", "SUBJECT"],
            escalations.map { escalation in
                [
                    escalation.id, String(escalation.level), escalation.reason.rawValue, escalation.state.rawValue,
                    age(since: escalation.createdAt), escalation.questionId, clip(escalation.questionSubject, 40),
                ]
            }
        )
    }

    /// One line for an escalation event from the live stream.
    public static func escalationEvent(_ kind: String, _ escalation: EscalationResource) -> String {
        let what = kind.replacingOccurrences(of: "escalation.", with: "")
        var line = "[\(APICoding.format(escalation.updatedAt))] \(what) L\(escalation.level) \(escalation.reason.rawValue) "
        line += "\(escalation.id) on \(escalation.questionId) (\(escalation.questionPriority.rawValue)): "
        line += clip(escalation.questionSubject, 60)
        if let note = escalation.note, kind == "escalation.created" { line += " | " + clip(note, 80) }
        return line
    }

    /// Summary groups as a table.
    public static func summary(_ groups: [MetricsGroup]) -> String {
        func seconds(_ value: Double?) -> String {
            guard let value else { return "-" }
            return value < 120 ? "\(Int(value))s" : value < 7200 ? "\(Int(value / 60))m" : String(format: "%.1fh", value / 3600)
        }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.0f%%", $0 * 100) } ?? "-" }
        return table(
            ["GROUP", "QUESTIONS", "RESOLVED", "FIRST RESP p50", "p90", "RESOLUTION p50", "PEER SHARE", "ESCALATED", "CSAT", "SCORE"],
            groups.map { group in
                [
                    group.key, String(group.questions), String(group.resolved), seconds(group.firstResponse.median),
                    seconds(group.firstResponse.p90), seconds(group.resolution.median), percent(group.peerShare),
                    percent(group.escalationRate), percent(group.csat), group.meanScore.map { String(format: "%.2f", $0) } ?? "-",
                ]
            }
        )
    }

    /// Helpers as a table.
    public static func helpers(_ helpers: [Helper]) -> String {
        table(
            ["ID", "HANDLE", "ROLE", "CAPACITY", "PRESENCE", "ACTIVE", "SKILLS", "LANGUAGES"],
            helpers.map { helper in
                [
                    helper.id, helper.handle, helper.role.rawValue, String(helper.capacity), helper.presence.rawValue,
                    helper.active ? "yes" : "no", helper.skills.joined(separator: ","),
                    helper.languages.joined(separator: ","),
                ]
            }
        )
    }

    /// Tokens as a table.
    public static func tokens(_ tokens: [AccessToken]) -> String {
        table(
            ["ID", "HELPER", "LABEL", "PREFIX", "CREATED", "LAST USED", "REVOKED"],
            tokens.map { token in
                [
                    token.id, token.helperId, token.label, token.prefix + "…", APICoding.format(token.createdAt),
                    token.lastUsedAt.map(APICoding.format) ?? "-", token.revokedAt.map(APICoding.format) ?? "-",
                ]
            }
        )
    }

    /// Any resource as pretty JSON, for `--json`.
    public static func json(_ value: some Encodable) throws -> String {
        let encoder = APICoding.encoder
        encoder.outputFormatting.insert(.prettyPrinted)
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func age(since date: Date, now: Date = Date()) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m"
        case ..<86400: return "\(seconds / 3600)h\((seconds % 3600) / 60)m"
        default: return "\(seconds / 86400)d"
        }
    }

    static func clip(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }
}

extension TerminalRenderer {
    /// Integrations as a table.
    public static func integrations(_ integrations: [IntegrationResource]) -> String {
        guard !integrations.isEmpty else { return "no integrations" }
        return table(
            ["ID", "NAME", "KIND", "STATE", "INBOUND", "OUTBOUND", "URL"],
            integrations.map { integration in
                [
                    integration.id, integration.name, integration.kind.rawValue, integration.state.rawValue,
                    integration.inboundEnabled ? "on" : "off",
                    integration.outboundUrl == nil ? "-" : (integration.outboundEnabled ? "on" : "disabled"),
                    integration.outboundUrl ?? "-",
                ]
            }
        )
    }

    /// One integration: settings, secrets' validity, delivery counts and the audit trail.
    public static func integration(_ detail: IntegrationDetailResource) -> String {
        let integration = detail.integration
        var lines = [
            "\(integration.id)  \(integration.name)  (\(integration.kind.rawValue), \(integration.state.rawValue))",
            "inbound: \(integration.inboundEnabled ? "on" : "off") at POST \(integration.inboundPath)",
            "outbound: \(integration.outboundUrl ?? "none")"
                + (integration.outboundDisabledReason.map { " (disabled: \($0))" } ?? ""),
            "events: \(integration.events.isEmpty ? "none" : integration.events.map(\.rawValue).joined(separator: ", "))"
                + (integration.allChannels ? " about every question" : " about its own questions"),
            "deliveries: "
                + DeliveryState.allCases.map { "\(detail.deliveries[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: ", "),
            "",
            "secrets:",
        ]
        for secret in detail.secrets {
            let validity = secret.expiresAt.map { (secret.active ? "valid until " : "ended ") + APICoding.format($0) } ?? "current"
            lines.append("  \(secret.id)  created \(APICoding.format(secret.createdAt))  \(validity)")
        }
        lines.append("")
        lines.append("audit:")
        for event in detail.audit {
            lines.append("  [\(APICoding.format(event.at))] \(event.type): \(event.detail)")
        }
        return lines.joined(separator: "\n")
    }

    /// Deliveries as a table, newest first.
    public static func deliveries(_ deliveries: [DeliveryResource]) -> String {
        guard !deliveries.isEmpty else { return "no deliveries" }
        return table(
            ["ID", "EVENT", "STATE", "ATTEMPTS", "LAST", "CREATED", "ERROR"],
            deliveries.map { delivery in
                let last = delivery.attempts.last
                return [
                    delivery.id, delivery.eventType, delivery.state.rawValue, String(delivery.attempts.count),
                    last.map { "\($0.statusCode.map(String.init) ?? $0.outcome.rawValue) \($0.latencyMs)ms" } ?? "-",
                    APICoding.format(delivery.createdAt), clip(delivery.lastError ?? "", 60),
                ]
            }
        )
    }
}
