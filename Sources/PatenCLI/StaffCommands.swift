import ArgumentParser
import Foundation
import OpenAPIRuntime
import PatenClient
import PatenCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `paten escalate`.
public struct Escalate: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Hand a question you hold to staff (volunteers), or escalate it by hand (staff)."
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
    @Option(help: "What was tried and what the customer needs.") var note: String
    @Option(help: "Staff only: 1 (staff queue) or 2 (staff lead).") var level: Int?

    public init() {}

    public func run() async throws {
        let path = try validID(id)
        let wireLevel = try level.map(Self.level)
        let escalation = try await options.call { api in
            try await api.escalateQuestion(path: .init(id: path), body: .json(.init(note: note, level: wireLevel))).created.body.json
        }
        try options.show(escalation) {
            "escalated \(id) as \(TerminalRenderer.safe(escalation.id)) (\(escalation.reason.rawValue), level \(escalation.level.rawValue))"
        }
    }

    /// An escalation level as the API takes it.
    static func level(_ level: Int) throws -> Operations.EscalateQuestion.Input.Body.JsonPayload.LevelPayload {
        guard let wire = Operations.EscalateQuestion.Input.Body.JsonPayload.LevelPayload(rawValue: level) else {
            throw PatenError.malformed("invalid_level", "--level must be 1 (staff queue) or 2 (staff lead).")
        }
        return wire
    }
}

/// `paten ack`.
public struct Ack: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(abstract: "Acknowledge an escalation: you are on it.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The escalation id (esc_...).") var id: String

    public init() {}

    public func run() async throws {
        let path = try validID(id)
        let escalation = try await options.call { api in try await api.acknowledgeEscalation(path: .init(id: path)).ok.body.json }
        try options.show(escalation) { "acknowledged \(TerminalRenderer.safe(escalation.id))" }
    }
}

/// `paten escalations`.
public struct Escalations: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "List escalations, or watch them arrive live with --watch.", subcommands: [List.self, Resolve.self],
        defaultSubcommand: List.self
    )

    public init() {}

    /// `paten escalations list`, and `--watch`.
    public struct List: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "List escalations (default: open ones).")

        @OptionGroup var options: ClientOptions
        @Option(help: "open, acknowledged or resolved.") var state: EscalationState = .open
        @Option(help: "1 or 2.") var level: Int?
        @Flag(help: "Stay connected and print each new or changed escalation as it happens.") var watch = false

        public init() {}

        public func run() async throws {
            let query = Operations.ListEscalations.Input.Query(state: try wire(state), level: try level.map(Self.level))
            let current = try await options.call { api in try await api.listEscalations(query: query).ok.body.json }
            if !watch {
                try options.show(current) { TerminalRenderer.escalations(current.escalations) }
                return
            }
            if !options.json { print(TerminalRenderer.escalations(current.escalations)) }
            try await follow()
        }

        /// Prints each event of the escalation stream as it arrives; after a dropped connection (or a 429 while the
        /// server still counts the dropped one) it resumes after the last event seen, waiting 1 s, then twice as long
        /// each time up to 30 s, and 1 s again once events flow. An event this version cannot read is reported on
        /// stderr (`--json` prints its data as sent) and skipped, so one unknown value never stops the watch. Returns
        /// only when the task is cancelled or the reader goes away; a refusal (401, 403) ends it with its error.
        func follow() async throws {
            var lastEventID: Int64?
            var delay = 1
            while !Task.isCancelled {
                do {
                    try await options.call(streaming: true) { api in
                        for try await event in try await api.rawEscalationEvents(after: lastEventID) {
                            // The stream's opening block carries the resume point even before the first event.
                            if let id = event.id.flatMap({ Int64($0) }) { lastEventID = id }
                            delay = 1
                            guard let data = event.data else { continue }
                            guard let escalation = Client.escalation(from: data) else {
                                try skip(data, as: event.event ?? "")
                                continue
                            }
                            try write(escalation, as: event.event ?? "")
                        }
                    }
                } catch let error as PatenError where error.kind != .unavailable && error.kind != .tooManyRequests {
                    throw error
                } catch is CancellationError {
                    return
                } catch {
                    // The connection dropped, or the server is busy: wait, then resume where it stopped.
                }
                try await Task.sleep(for: .seconds(delay))
                delay = min(delay * 2, 30)
            }
        }

        /// An event this version cannot read: `--json` passes its data on as sent (made safe), text mode says so on
        /// stderr.
        func skip(_ data: String, as kind: String) throws {
            if options.json {
                do {
                    try FileHandle.standardOutput.write(contentsOf: Data((TerminalRenderer.safeJSON(data) + "\n").utf8))
                } catch {
                    throw CancellationError()
                }
            } else {
                FileHandle.standardError.write(
                    Data("paten: skipped a \(TerminalRenderer.safe(kind)) event this version cannot read\n".utf8)
                )
            }
        }

        /// Writes one event straight to the descriptor, unbuffered, so a pipe sees each event as it happens.
        func write(_ escalation: Components.Schemas.Escalation, as kind: String) throws {
            let line =
                options.json
                ? try TerminalRenderer.json(escalation, pretty: false) : TerminalRenderer.escalationEvent(kind, escalation)
            do {
                try FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
            } catch {
                // The reader went away (a closed pipe): stop watching, as `tail -f` does.
                throw CancellationError()
            }
        }

        /// An escalation level as the API takes it.
        static func level(_ level: Int) throws -> Operations.ListEscalations.Input.Query.LevelPayload {
            guard let wire = Operations.ListEscalations.Input.Query.LevelPayload(rawValue: level) else {
                throw PatenError.malformed("invalid_level", "--level must be 1 or 2.")
            }
            return wire
        }
    }

    /// `paten escalations resolve`.
    public struct Resolve: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Resolve an escalation.")

        @OptionGroup var options: ClientOptions
        @Argument(help: "The escalation id (esc_...).") var id: String

        public init() {}

        public func run() async throws {
            let path = try validID(id)
            let escalation = try await options.call { api in try await api.resolveEscalation(path: .init(id: path)).ok.body.json }
            try options.show(escalation) { "resolved \(TerminalRenderer.safe(escalation.id))" }
        }
    }
}

/// `paten metrics`.
public struct MetricsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "metrics", abstract: "Programme metrics.", subcommands: [Summary.self, Export.self]
    )

    public init() {}

    /// `paten metrics summary`.
    public struct Summary: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Response times, peer share, CSAT and more.")

        @OptionGroup var options: ClientOptions
        @Option(help: "Start (RFC 3339 or YYYY-MM-DD; default 30 days ago).") var from: String?
        @Option(help: "End, exclusive (default now).") var to: String?
        @Option(name: .customLong("group-by"), help: "all, helper, tier, topic, channel or day.") var groupBy: MetricsGrouping = .all

        public init() {}

        public func run() async throws {
            let query = Operations.MetricsSummary.Input.Query(
                from: from.map { .init(value2: $0) }, to: to.map { .init(value2: $0) }, groupBy: try wire(groupBy)
            )
            let summary = try await options.call { api in try await api.metricsSummary(query: query).ok.body.json }
            try options.show(summary) { TerminalRenderer.summary(summary.groups) }
        }
    }

    /// `paten metrics export`.
    public struct Export: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "One row per question, as CSV or JSON.")

        @OptionGroup var options: ClientOptions
        @Option(help: "csv or json.") var format: String = "csv"
        @Option(help: "Start (RFC 3339 or YYYY-MM-DD; default 30 days ago).") var from: String?
        @Option(help: "End, exclusive (default now).") var to: String?
        @Option(name: [.short, .customLong("output")], help: "Write to this file instead of stdout.") var output: String?

        public init() {}

        public func run() async throws {
            guard Operations.MetricsExport.Input.Query.FormatPayload(rawValue: format) != nil else {
                throw PatenError.malformed("invalid_format", "--format must be csv or json.")
            }
            if let output, output != "-" {
                try await exportToFile(output)
            } else if isatty(STDOUT_FILENO) != 0 {
                try await exportToTerminal()
            } else {
                try await export(into: FileHandle.standardOutput)
            }
        }

        /// Writes the export to a private file next to `path` and renames it over `path` only when the whole export
        /// arrived: a refusal or a broken connection leaves an existing file as it was, and never a partial one.
        func exportToFile(_ path: String) async throws {
            let target = URL(fileURLWithPath: path)
            let partial = target.deletingLastPathComponent()
                .appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
            guard FileManager.default.createFile(atPath: partial.path, contents: nil, attributes: [.posixPermissions: 0o600])
            else {
                throw PatenError.malformed("cannot_write", "Cannot write in the folder of \(path).")
            }
            var moved = false
            defer { if !moved { try? FileManager.default.removeItem(at: partial) } }
            let handle = try FileHandle(forWritingTo: partial)
            try await export(into: handle)
            try handle.close()
            if FileManager.default.fileExists(atPath: target.path) {
                _ = try FileManager.default.replaceItemAt(target, withItemAt: partial)
            } else {
                try FileManager.default.moveItem(at: partial, to: target)
            }
            moved = true
        }

        /// Streams the export into the handle chunk by chunk as it arrives, so memory stays flat, with progress on
        /// stderr when stderr is a terminal: rows written, rate, and time left (the total is the period's question
        /// count from the summary, when it can be read).
        func export(into handle: FileHandle) async throws {
            guard let wireFormat = Operations.MetricsExport.Input.Query.FormatPayload(rawValue: format) else {
                throw PatenError.malformed("invalid_format", "--format must be csv or json.")
            }
            let period = (
                from: from.map { Components.Schemas.TimeOrDate(value2: $0) }, to: to.map { Components.Schemas.TimeOrDate(value2: $0) }
            )
            try await options.call(streaming: true) { api in
                var total: Int?
                if Progress.isTerminal {
                    let query = Operations.MetricsSummary.Input.Query(from: period.from, to: period.to, groupBy: .all)
                    total = try? await api.metricsSummary(query: query).ok.body.json.groups.first?.questions
                }
                let progress = Progress(total: total, unit: "rows")
                let response = try await api.metricsExport(query: .init(format: wireFormat, from: period.from, to: period.to))
                var lines = 0
                defer { progress.finish() }
                // A JSON export arrives as the raw stream too (`StreamedExportMiddleware`).
                let body = try response.ok.body.csv
                do {
                    for try await chunk in body {
                        try handle.write(contentsOf: chunk)
                        lines += chunk.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                        // The CSV header, or the JSON array's opening line, is not a row.
                        progress.update(done: max(0, lines - 1))
                    }
                } catch let error as PatenError {
                    throw error
                } catch {
                    throw PatenError(
                        .unavailable, code: "export_interrupted",
                        message: "The export stopped after \(max(0, lines - 1)) rows: the connection to the server broke."
                    )
                }
            }
        }

        /// Customer names in the export could carry escape sequences: a terminal gets the export made safe.
        func exportToTerminal() async throws {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("paten-export-\(UUID().uuidString)")
            guard FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600])
            else {
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
