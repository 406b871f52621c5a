import Foundation
import PatenCore
import PatenHTTP

/// Human-readable output for the CLI: aligned tables and a question's conversation. Every string that came from
/// the server passes through `safe(_:multiline:)` before it reaches the terminal.
public enum TerminalRenderer {
    /// A table with a header row; columns are padded to their widest cell. Cells are made safe here.
    public static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows.map { $0.map { safe($0) } }
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
            "\(safe(question.id))  \(safe(question.subject))",
            "state: \(question.state.rawValue)  tier: \(question.tier.rawValue)  priority: \(question.priority.rawValue)  "
                + "topic: \(safe(question.topic))  language: \(safe(question.language))",
            "customer: \(safe(question.customer.name)) (\(safe(question.customer.id)))",
        ]
        if let holder = question.holderHandle ?? question.holderId {
            let until = question.leaseExpiresAt.map { " until \(APICoding.format($0))" } ?? ""
            lines.append("held by: \(safe(holder))\(until)")
        }
        if let incident = question.incident {
            lines.append("incident: \(safe(incident.id))  \(safe(incident.title)) (\(incident.state.rawValue))")
            if let update = incident.latestUpdate {
                lines.append("  latest \(update.kind.rawValue) [\(APICoding.format(update.createdAt))]: \(oneLine(update.body, 100))")
            }
        }
        lines.append("")
        for message in detail.messages {
            let author = message.authorKind == .customer ? "customer" : safe(message.authorHandle ?? "helper")
            lines.append("[\(APICoding.format(message.createdAt))] \(author):")
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
    public static func summary(_ question: QuestionResource, _ verb: String) -> String {
        var line = "\(verb) \(safe(question.id)) (\(question.state.rawValue), \(question.tier.rawValue) tier)"
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
        let what = safe(kind.replacingOccurrences(of: "escalation.", with: ""))
        var line = "[\(APICoding.format(escalation.updatedAt))] \(what) L\(escalation.level) \(escalation.reason.rawValue) "
        line += "\(safe(escalation.id)) on \(safe(escalation.questionId)) (\(escalation.questionPriority.rawValue)): "
        line += clip(safe(escalation.questionSubject), 60)
        if let note = escalation.note, kind == "escalation.created" { line += " | " + clip(safe(note), 80) }
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
        return safeJSON(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// How long ago a time was, in its largest unit or two: `45s`, `12m`, `3h5m`, `2d`.
    public static func age(since date: Date, now: Date = Date()) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m"
        case ..<86400: return "\(seconds / 3600)h\((seconds % 3600) / 60)m"
        default: return "\(seconds / 86400)d"
        }
    }

    /// The text cut to `length` characters, the last one an ellipsis when cut.
    public static func clip(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }

    /// The start of a text on one line: whitespace runs, line breaks included, become one space; made safe.
    static func oneLine(_ text: String, _ length: Int) -> String {
        let words = text.split(whereSeparator: { $0.isWhitespace || $0.isNewline })
        return clip(safe(words.joined(separator: " ")), length)
    }
}

extension TerminalRenderer {
    /// Up to five similar solved questions, one line each: similarity, question, subject and the start of the
    /// credited answer; nothing when there are none.
    public static func similar(_ similar: [SimilarResource]) -> String? {
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
            "\(safe(integration.id))  \(safe(integration.name))  (\(integration.kind.rawValue), \(integration.state.rawValue))",
            "inbound: \(integration.inboundEnabled ? "on" : "off") at POST \(safe(integration.inboundPath))",
            "outbound: \(safe(integration.outboundUrl ?? "none"))"
                + (integration.outboundDisabledReason.map { " (disabled: \(safe($0)))" } ?? ""),
            "events: \(integration.events.isEmpty ? "none" : integration.events.map(\.rawValue).joined(separator: ", "))"
                + (integration.allChannels ? " about every question" : " about its own questions"),
            "deliveries: "
                + DeliveryState.allCases.map { "\(detail.deliveries[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: ", "),
            "",
            "secrets:",
        ]
        for secret in detail.secrets {
            let validity = secret.expiresAt.map { (secret.active ? "valid until " : "ended ") + APICoding.format($0) } ?? "current"
            lines.append("  \(safe(secret.id))  created \(APICoding.format(secret.createdAt))  \(validity)")
        }
        lines.append("")
        lines.append("audit:")
        for event in detail.audit {
            lines.append("  [\(APICoding.format(event.at))] \(safe(event.type)): \(safe(event.detail))")
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

extension TerminalRenderer {
    /// Server-provided text made safe for a terminal. Control characters (C0 but the line break, DEL and C1) show as
    /// their visible pictures (`␛`, `␇`, `␈`, `␍`) or as `<U+009B>`, so customer text cannot move the cursor, clear
    /// the screen, retitle the window, plant an OSC 8 link or overwrite a line; bidirectional overrides and isolates
    /// show as `<U+202E>`, so it cannot reorder what the helper reads. A tab is a space. Line breaks are kept when
    /// `multiline` (message bodies; a CR LF is one break) and show as `␤` elsewhere, so a subject cannot fake lines.
    public static func safe(_ text: String, multiline: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { isUnsafe($0) }) else { return text }
        var result = String.UnicodeScalarView()
        // A CR is held back: right before a line break in a body it is part of the break.
        var carriageReturn = false
        for scalar in text.unicodeScalars {
            if carriageReturn, !(multiline && scalar == "\n") { result.append("\u{240D}") }
            carriageReturn = false
            switch scalar.value {
            case 0x0D: carriageReturn = true
            case 0x0A: result.append(multiline ? scalar : "\u{2424}")
            case 0x09: result.append(" ")
            case 0x00..<0x20: result.append(Unicode.Scalar(0x2400 + scalar.value) ?? "?")
            case 0x7F: result.append("\u{2421}")
            case 0x80...0x9F, 0x202A...0x202E, 0x2066...0x2069:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result.append(contentsOf: "<U+\(String(repeating: "0", count: 4 - hex.count))\(hex)>".unicodeScalars)
            default: result.append(scalar)
            }
        }
        if carriageReturn { result.append("\u{240D}") }
        return String(result)
    }

    /// JSON text with every character a terminal could act on written as a `\u` escape. Such characters can only
    /// stand inside JSON strings, where the escape means the same character, so the document is unchanged.
    public static func safeJSON(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { isUnsafe($0) && $0 != "\n" }) else { return json }
        var result = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            if isUnsafe(scalar), scalar != "\n" {
                let hex = String(scalar.value, radix: 16)
                result.append(contentsOf: "\\u\(String(repeating: "0", count: 4 - hex.count))\(hex)".unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00..<0x20, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
