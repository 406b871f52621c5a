import ArgumentParser
import Foundation
import PatenApp
import PatenCore
import PatenHTTP

struct Me: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Your part in the volunteer programme: points, level, badges, topics, this week's budget."
    )

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let programme = try await options.client().programme()
        try options.show(programme) { ProgrammeText.summary(programme) }
    }
}

struct Leaderboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The volunteers with the most points in a period.")

    @OptionGroup var options: ClientOptions
    @Option(help: "week (from Monday, UTC), month or all.") var period: String?
    @Option(help: "Only points earned in this topic.") var topic: String?

    func run() async throws {
        let board = try await options.client().leaderboard(period: period, topic: topic)
        try options.show(board) { ProgrammeText.leaderboard(board) }
    }
}

struct PayoutsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payouts", abstract: "Book and read the programme's payout batches.",
        subcommands: [Create.self, Show.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Admin: book every balance at or over the minimum up to the period's end (once per period)."
        )

        @OptionGroup var options: ClientOptions
        @Option(help: "The period's end: an RFC 3339 time, or a date (its midnight UTC).") var periodEnd: String

        func run() async throws {
            let payout = try await options.client().createPayout(periodEnd: periodEnd)
            try options.show(payout) { ProgrammeText.payout(payout) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A payout batch, or its CSV file with --csv.")

        @OptionGroup var options: ClientOptions
        @Argument(help: "The payout id.") var id: String
        @Flag(help: "The payout file (helper, handle, points, amount, currency) as CSV.") var csv = false

        func run() async throws {
            let client = try options.client()
            if csv {
                try await client.payoutFile(id, into: FileHandle.standardOutput)
                return
            }
            let payout = try await client.payout(id)
            try options.show(payout) { ProgrammeText.payout(payout) }
        }
    }
}

/// The programme's text forms for a terminal; every value a person chose passes through `TerminalRenderer.safe`.
enum ProgrammeText {
    static func summary(_ programme: ProgrammeResource) -> String {
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

    static func leaderboard(_ board: LeaderboardResource) -> String {
        guard !board.entries.isEmpty else { return "No points in this period yet." }
        return board.entries.enumerated().map { index, entry in
            "\(index + 1). \(TerminalRenderer.safe(entry.handle)) \(entry.points)"
                + (entry.level.map { " (\(TerminalRenderer.safe($0)))" } ?? "")
        }.joined(separator: "\n")
    }

    static func payout(_ payout: PayoutResource) -> String {
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
