import Foundation

/// The per-question export: its columns (documented in docs/metrics.md), and rows as RFC 4180 CSV or JSON.
public struct MetricsExport: Sendable {
    /// The export's column names, in order.
    public static let columns = [
        "question_id", "created_at", "channel", "topic", "language", "priority", "tier", "state", "customer_name",
        "moved_to_staff_at", "first_response_at", "first_response_seconds", "first_response_business_seconds",
        "next_responses", "next_response_mean_seconds", "next_response_max_seconds", "resolved_at", "resolution_seconds",
        "resolution_business_seconds", "resolved_by", "resolved_by_peers", "staff_replies", "volunteer_replies",
        "escalated", "escalation_reasons", "peer_window", "sla_first_response", "sla_next_response", "sla_resolution",
        "rating_score", "rating_comment", "rated_helper", "rated_helper_tier", "credited_helper", "points",
    ]

    /// One cell: text, a number, a flag, or empty.
    public enum Value: Sendable, Equatable {
        case text(String)
        case number(Double)
        case integer(Int)
        /// An amount of money, written with two decimals ("0.54", "-3.00").
        case money(Double)
        case flag(Bool)
        case empty
    }

    let calculator: MetricsCalculator
    let formatTime: @Sendable (Date) -> String

    /// Creates an export on the staff calendar; `formatTime` writes times (RFC 3339 in the API).
    public init(calculator: MetricsCalculator, formatTime: @escaping @Sendable (Date) -> String) {
        self.calculator = calculator
        self.formatTime = formatTime
    }

    /// A row's cells, in column order.
    public func values(_ row: QuestionMetrics) -> [Value] {
        func time(_ date: Date?) -> Value { date.map { .text(formatTime($0)) } ?? .empty }
        func seconds(_ value: Double?) -> Value { value.map { .number(($0 * 1000).rounded() / 1000) } ?? .empty }
        func text(_ value: String?) -> Value { value.map(Value.text) ?? .empty }
        return [
            .text(row.id), time(row.createdAt), .text(row.channel), .text(row.topic), .text(row.language),
            .text(row.priority.rawValue), .text(row.tier.rawValue), .text(row.state.rawValue), .text(row.customerName),
            time(row.movedToStaffAt), time(row.firstResponseAt), seconds(row.firstResponseSeconds),
            seconds(calculator.firstResponseBusinessSeconds(row)), .integer(row.nextResponseCount),
            seconds(row.nextResponseMeanSeconds),
            row.nextResponseCount == 0 ? .empty : seconds(Double(row.nextResponseMaxMs) / 1000), time(row.resolvedAt),
            seconds(row.resolutionSeconds), seconds(calculator.resolutionBusinessSeconds(row)), text(row.resolverHandle),
            row.state == .resolved ? .flag(row.resolvedByPeers) : .empty, .integer(row.staffReplies),
            .integer(row.volunteerReplies), .flag(row.escalated), .text(row.escalationReasons.joined(separator: " ")),
            text(row.clocks[SLATarget.peerWindow.rawValue]?.rawValue),
            text(row.clocks[SLATarget.firstResponse.rawValue]?.rawValue),
            text(row.clocks[SLATarget.nextResponse.rawValue]?.rawValue),
            text(row.clocks[SLATarget.resolution.rawValue]?.rawValue), row.ratingScore.map(Value.integer) ?? .empty,
            text(row.ratingComment), text(row.ratedHelperHandle), text(row.ratedHelperTier?.rawValue),
            text(row.creditedHelperHandle), .integer(row.points),
        ]
    }

    /// The CSV header line, CRLF-terminated.
    public static var csvHeader: String { csvLine(columns.map(Value.text)) }

    /// A row as one CSV record, CRLF-terminated.
    public func csv(_ row: QuestionMetrics) -> String { Self.csvLine(values(row)) }

    /// A row as a JSON object with typed values.
    public func json(_ row: QuestionMetrics) -> String {
        "{" + zip(Self.columns, values(row)).map { "\(Self.jsonString($0)):\(Self.jsonValue($1))" }.joined(separator: ",") + "}"
    }

    /// RFC 4180: fields with a comma, quote, CR or LF are quoted, quotes doubled; records end in CRLF.
    public static func csvLine(_ values: [Value]) -> String {
        var line = ""
        line.reserveCapacity(256)
        for (index, value) in values.enumerated() {
            if index > 0 { line += "," }
            switch value {
            case .text(let string): appendCSV(string, to: &line)
            case .number(let number): line += Self.number(number)
            case .integer(let integer): line += String(integer)
            case .money(let amount): line += String(format: "%.2f", amount)
            case .flag(let flag): line += flag ? "true" : "false"
            case .empty: break
            }
        }
        return line + "\r\n"
    }

    /// A text cell. One starting with =, +, - or @ would run as a formula in a spreadsheet; a leading quote keeps
    /// it text (OWASP's advice for CSV exports).
    static func appendCSV(_ string: String, to line: inout String) {
        let bytes = string.utf8
        let formula = bytes.first.map { $0 == 0x3D || $0 == 0x2B || $0 == 0x2D || $0 == 0x40 } ?? false
        // Bytes, not Characters: "\r\n" is one Character that equals neither "\r" nor "\n".
        let needsQuotes = bytes.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0D || $0 == 0x0A }
        if !needsQuotes {
            if formula { line += "'" }
            line += string
            return
        }
        line += formula ? "\"'" : "\""
        line += string.contains("\"") ? string.replacingOccurrences(of: "\"", with: "\"\"") : string
        line += "\""
    }

    static func jsonValue(_ value: Value) -> String {
        switch value {
        case .text(let string): jsonString(string)
        case .number(let number): Self.number(number)
        case .integer(let integer): String(integer)
        case .money(let amount): String(format: "%.2f", amount)
        case .flag(let flag): flag ? "true" : "false"
        case .empty: "null"
        }
    }

    static func jsonString(_ text: String) -> String { JSONText.quoted(text) }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3f", value)
    }
}
