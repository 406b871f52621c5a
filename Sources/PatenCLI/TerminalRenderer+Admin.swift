import PatenClient
import PatenCore

/// The admin commands' tables for the API's resources (`--remote`), in the same shapes as for the database's records.
extension TerminalRenderer {
    /// Accounts as a table.
    public static func helpers(_ helpers: [Components.Schemas.Helper]) -> String {
        table(
            ["ID", "HANDLE", "ROLE", "CAPACITY", "PRESENCE", "ACTIVE", "SKILLS", "LANGUAGES"],
            helpers.map { helper in
                [
                    helper.id, helper.handle, helper.role.rawValue, String(helper.capacity), helper.presence.rawValue,
                    helper.active ? "yes" : "no", helper.skills.joined(separator: ","), helper.languages.joined(separator: ","),
                ]
            }
        )
    }

    /// Tokens as a table.
    public static func tokens(_ tokens: [Components.Schemas.Token]) -> String {
        table(
            ["ID", "HELPER", "LABEL", "PREFIX", "CREATED", "LAST USED", "REVOKED"],
            tokens.map { token in
                [
                    token.id, token.helperId, token.label, token.prefix + "…", RFC3339.format(token.createdAt),
                    token.lastUsedAt.map(RFC3339.format) ?? "-", token.revokedAt.map(RFC3339.format) ?? "-",
                ]
            }
        )
    }

    /// Integrations as a table, or a line saying there are none.
    public static func integrations(_ integrations: [Components.Schemas.Integration]) -> String {
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
    public static func integration(_ detail: Components.Schemas.IntegrationDetail) -> String {
        let integration = detail.integration
        var lines = [
            "\(safe(integration.id))  \(safe(integration.name))  (\(integration.kind.rawValue), \(integration.state.rawValue))",
            "inbound: \(integration.inboundEnabled ? "on" : "off") at POST \(safe(integration.inboundPath))",
            "outbound: \(safe(integration.outboundUrl ?? "none"))"
                + (integration.outboundDisabledReason.map { " (disabled: \(safe($0)))" } ?? ""),
            "events: \((integration.events.isEmpty ? "none" : integration.events.map(\.rawValue).joined(separator: ", ")))"
                + (integration.allChannels ? " about every question" : " about its own questions"),
            "deliveries: "
                + DeliveryState.allCases.map { "\(detail.deliveries.additionalProperties[$0.rawValue] ?? 0) \($0.rawValue)" }
                .joined(separator: ", "),
            "",
            "secrets:",
        ]
        for secret in detail.secrets {
            let validity = secret.expiresAt.map { (secret.active ? "valid until " : "ended ") + RFC3339.format($0) } ?? "current"
            lines.append("  \(safe(secret.id))  created \(RFC3339.format(secret.createdAt))  \(validity)")
        }
        lines.append("")
        lines.append("audit:")
        for event in detail.audit {
            lines.append("  [\(RFC3339.format(event.at))] \(safe(event._type)): \(safe(event.detail))")
        }
        return lines.joined(separator: "\n")
    }

    /// Outbound messages as a table, or a line saying there are none.
    public static func deliveries(_ deliveries: [Components.Schemas.Delivery]) -> String {
        guard !deliveries.isEmpty else { return "no deliveries" }
        return table(
            ["ID", "EVENT", "STATE", "ATTEMPTS", "LAST", "CREATED", "ERROR"],
            deliveries.map { delivery in
                let last = delivery.attempts.last
                return [
                    delivery.id, delivery.eventType.rawValue, delivery.state.rawValue, String(delivery.attempts.count),
                    last.map { "\($0.statusCode.map(String.init) ?? $0.outcome.rawValue) \($0.latencyMs)ms" } ?? "-",
                    RFC3339.format(delivery.createdAt), clip(delivery.lastError ?? "", 60),
                ]
            }
        )
    }
}
