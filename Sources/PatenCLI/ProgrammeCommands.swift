import ArgumentParser
import Foundation
import OpenAPIRuntime
import PatenClient
import PatenCore

/// `paten me`.

public struct Me: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Your part in the volunteer programme: points, level, badges, topics, this week's budget."
    )

    @OptionGroup var options: ClientOptions

    public init() {}

    public func run() async throws {
        let programme = try await options.call { api in try await api.getMyProgramme().ok.body.json }
        try options.show(programme) { ProgrammeText.summary(programme) }
    }
}

/// `paten leaderboard`.

public struct Leaderboard: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(abstract: "The volunteers with the most points in a period.")

    @OptionGroup var options: ClientOptions
    @Option(help: "week (from Monday, UTC), month or all.") var period: String?
    @Option(help: "Only points earned in this topic.") var topic: String?

    public init() {}

    public func run() async throws {
        let query = Operations.GetLeaderboard.Input.Query(period: try period.map(Self.period), topic: topic)
        let board = try await options.call { api in try await api.getLeaderboard(query: query).ok.body.json }
        try options.show(board) { ProgrammeText.leaderboard(board) }
    }

    /// The period as the API names it.
    static func period(_ text: String) throws -> Operations.GetLeaderboard.Input.Query.PeriodPayload {
        guard let period = Operations.GetLeaderboard.Input.Query.PeriodPayload(rawValue: text) else {
            throw PatenError.malformed("invalid_period", "--period must be week, month or all.")
        }
        return period
    }
}

/// `paten payouts`.

public struct PayoutsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "payouts", abstract: "Book and read the programme's payout batches.",
        subcommands: [Create.self, Show.self]
    )

    public init() {}

    /// `paten payouts create`.

    public struct Create: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Admin: book every balance at or over the minimum up to the period's end (once per period)."
        )

        @OptionGroup var options: ClientOptions
        @Option(help: "The period's end: an RFC 3339 time, or a date (its midnight UTC).") var periodEnd: String

        public init() {}

        public func run() async throws {
            let payout = try await options.call { api in
                switch try await api.createPayout(body: .json(.init(periodEnd: .init(value2: periodEnd)))) {
                case .created(let created): try created.body.json
                case .ok(let booked): try booked.body.json
                case let other: throw PatenError(.unavailable, code: "unexpected_response", message: "The server answered \(other).")
                }
            }
            try options.show(payout) { ProgrammeText.payout(payout) }
        }
    }

    /// `paten payouts show`.

    public struct Show: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "A payout batch, or its CSV file with --csv.")

        @OptionGroup var options: ClientOptions
        @Argument(help: "The payout id.") var id: String
        @Flag(help: "The payout file (helper, handle, points, amount, currency) as CSV.") var csv = false

        public init() {}

        public func run() async throws {
            if csv {
                try await options.call { api in
                    let file = try await api.getPayout(
                        path: .init(id: try validID(id, example: "pay_abc123")), query: .init(format: .csv),
                        headers: .init(accept: [.init(contentType: .csv)]))
                    let body = try file.ok.body.csv
                    if isatty(STDOUT_FILENO) != 0 {
                        // Names could carry escape sequences: a terminal gets the file made safe.
                        let text = try await String(collecting: body, upTo: 64 * 1024 * 1024)
                        print(TerminalRenderer.safe(text, multiline: true), terminator: "")
                    } else {
                        for try await chunk in body { try FileHandle.standardOutput.write(contentsOf: chunk) }
                    }
                }
                return
            }
            let payout = try await options.call { api in
                try await api.getPayout(path: .init(id: try validID(id, example: "pay_abc123"))).ok.body.json
            }
            try options.show(payout) { ProgrammeText.payout(payout) }
        }
    }
}

/// The programme's text forms for a terminal; every value a person chose passes through `TerminalRenderer.safe`.
enum ProgrammeText {
    static func summary(_ programme: Components.Schemas.Programme) -> String {
        let safe: (String) -> String = { TerminalRenderer.safe($0) }
        var lines = [
            "\(safe(programme.handle)): \(programme.points.total) points (\(programme.points.week) this week, "
                + "\(programme.points.balance) not yet paid out)",
            "level: \(programme.level.map(safe) ?? "-"), accepted answers: \(programme.acceptedAnswers)",
        ]
        if let next = programme.nextLevel {
            lines.append("next level: \(safe(next.level)) at \(next.points) points and \(next.accepted) accepted answers")
        }
        lines.append("badges: " + (programme.badges.isEmpty ? "none yet" : programme.badges.map(safe).joined(separator: ", ")))
        if !programme.lockedTopics.isEmpty {
            lines.append("locked topics: " + programme.lockedTopics.map(safe).joined(separator: ", "))
        }
        var budget: [String] = []
        if let claims = programme.budget.claimsLeft { budget.append("\(claims) claims") }
        if let hours = programme.budget.hoursLeft { budget.append("\(hours) hours") }
        if !budget.isEmpty { lines.append("left this week: " + budget.joined(separator: ", ")) }
        if programme.paused { lines.append("paused: staff will review and resume you") }
        if programme.inQuietHours { lines.append("in your quiet hours: no claims until they end") }
        return lines.joined(separator: "\n")
    }

    static func leaderboard(_ board: Components.Schemas.Leaderboard) -> String {
        guard !board.entries.isEmpty else { return "No points in this period yet." }
        return board.entries.enumerated().map { index, entry in
            "\(index + 1). \(TerminalRenderer.safe(entry.handle)) \(entry.points)"
                + (entry.level.map { " (\(TerminalRenderer.safe($0)))" } ?? "")
        }.joined(separator: "\n")
    }

    static func payout(_ payout: Components.Schemas.Payout) -> String {
        var lines = [
            "\(payout.id): \(payout.lines.count) helper(s), \(payout.totalPoints) points, "
                + "\(payout.totalAmount) \(TerminalRenderer.safe(payout.currency))"
        ]
        for line in payout.lines {
            lines.append("  \(TerminalRenderer.safe(line.handle)) \(line.points) points, \(line.amount)")
        }
        return lines.joined(separator: "\n")
    }
}
