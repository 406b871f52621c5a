import ArgumentParser
import Foundation
import PatenApp
import PatenCore
import PatenHTTP

struct Escalate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hand a question you hold to staff (volunteers), or escalate it by hand (staff)."
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
    @Option(help: "What was tried and what the customer needs.") var note: String
    @Option(help: "Staff only: 1 (staff queue) or 2 (staff lead).") var level: Int?

    func run() async throws {
        let escalation = try await options.client().escalate(id, note: note, level: level)
        try options.show(escalation) {
            "escalated \(id) as \(TerminalRenderer.safe(escalation.id)) (\(escalation.reason.rawValue), level \(escalation.level))"
        }
    }
}

struct Ack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Acknowledge an escalation: you are on it.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The escalation id (esc_...).") var id: String

    func run() async throws {
        let escalation = try await options.client().escalationAction(.acknowledge, id)
        try options.show(escalation) { "acknowledged \(TerminalRenderer.safe(escalation.id))" }
    }
}

struct Escalations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List escalations, or watch them arrive live with --watch.", subcommands: [List.self, Resolve.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List escalations (default: open ones).")

        @OptionGroup var options: ClientOptions
        @Option(help: "open, acknowledged or resolved.") var state: EscalationState = .open
        @Option(help: "1 or 2.") var level: Int?
        @Flag(help: "Stay connected and print each new or changed escalation as it happens.") var watch = false

        func run() async throws {
            let client = try options.client()
            let current = try await client.escalations(state: state, level: level)
            if !watch {
                try options.show(current) { TerminalRenderer.escalations(current.escalations) }
                return
            }
            if !options.json { print(TerminalRenderer.escalations(current.escalations)) }
            let json = options.json
            try await client.watchEscalations { event in
                // Written straight to the descriptor, unbuffered, so a pipe sees each event as it happens.
                if json {
                    FileHandle.standardOutput.write(Data((TerminalRenderer.safeJSON(event.data) + "\n").utf8))
                } else if let escalation = try? APICoding.decoder.decode(EscalationResource.self, from: Data(event.data.utf8)) {
                    FileHandle.standardOutput.write(Data((TerminalRenderer.escalationEvent(event.event ?? "", escalation) + "\n").utf8))
                }
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resolve an escalation.")

        @OptionGroup var options: ClientOptions
        @Argument(help: "The escalation id (esc_...).") var id: String

        func run() async throws {
            let escalation = try await options.client().escalationAction(.resolve, id)
            try options.show(escalation) { "resolved \(TerminalRenderer.safe(escalation.id))" }
        }
    }
}

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics", abstract: "Programme metrics.", subcommands: [Summary.self, Export.self]
    )

    struct Summary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Response times, peer share, CSAT and more.")

        @OptionGroup var options: ClientOptions
        @Option(help: "Start (RFC 3339 or YYYY-MM-DD; default 30 days ago).") var from: String?
        @Option(help: "End, exclusive (default now).") var to: String?
        @Option(name: .customLong("group-by"), help: "all, helper, tier, topic, channel or day.") var groupBy: MetricsGrouping = .all

        func run() async throws {
            let summary = try await options.client().metricsSummary(from: from, to: to, groupBy: groupBy)
            try options.show(summary) { TerminalRenderer.summary(summary.groups) }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One row per question, as CSV or JSON.")

        @OptionGroup var options: ClientOptions
        @Option(help: "csv or json.") var format: String = "csv"
        @Option(help: "Start (RFC 3339 or YYYY-MM-DD; default 30 days ago).") var from: String?
        @Option(help: "End, exclusive (default now).") var to: String?
        @Option(name: [.short, .customLong("output")], help: "Write to this file instead of stdout.") var output: String?

        func run() async throws {
            let handle: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil) else {
                    throw PatenError.malformed("cannot_write", "Cannot create \(output).")
                }
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            } else if isatty(STDOUT_FILENO) != 0 {
                try await exportToTerminal()
                return
            } else {
                handle = FileHandle.standardOutput
            }
            try await export(into: handle)
            if output != nil { try handle.close() }
        }

        /// Streams the export into the handle, with progress on stderr when stderr is a terminal: rows written,
        /// rate, and time left (the total is the period's question count from the summary, when it can be read).
        func export(into handle: FileHandle) async throws {
            let client = try options.client()
            guard Progress.isTerminal else {
                try await client.exportMetrics(format: format, from: from, to: to, into: handle)
                return
            }
            let total = try? await client.metricsSummary(from: from, to: to, groupBy: .all).groups.first?.questions
            let progress = Progress(total: total, unit: "rows")
            var lines = 0
            try await client.exportMetrics(format: format, from: from, to: to, into: handle) { chunk in
                lines += chunk.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                // The CSV header, or the JSON array's opening line, is not a row.
                progress.update(done: max(0, lines - 1))
            }
            progress.finish()
        }

        /// Customer names in the export could carry escape sequences: a terminal gets the export made safe.
        func exportToTerminal() async throws {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("paten-export-\(UUID().uuidString)")
            guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
                throw PatenError.malformed("cannot_write", "Cannot create \(file.path) for the export.")
            }
            defer { try? FileManager.default.removeItem(at: file) }
            let handle = try FileHandle(forWritingTo: file)
            try await export(into: handle)
            try handle.close()
            let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            print(format == "json" ? TerminalRenderer.safeJSON(text) : TerminalRenderer.safe(text, multiline: true), terminator: "")
        }
    }
}

extension EscalationState: ExpressibleByArgument {}
extension MetricsGrouping: ExpressibleByArgument {}
