import ArgumentParser
import Foundation
import PatenClient
import PatenCore

/// `paten incidents`.

public struct IncidentsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "Staff: surges of similar questions, answered as one; post updates, resolve, link and merge.",
        subcommands: [List.self, Show.self, Update.self, Resolve.self, Link.self, Unlink.self, Merge.self],
        defaultSubcommand: List.self
    )

    public init() {}

    /// `paten incidents list`.

    public struct List: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "List incidents, newest first, a page at a time.")

        @OptionGroup var options: ClientOptions
        @Option(help: "open, resolved or merged (default: every state).") var state: IncidentState?
        @Option(help: "Incidents per page, 1 to 200.") var limit: Int?
        @Option(help: "Start where the previous page ended (its next cursor).") var cursor: String?

        public init() {}

        public func run() async throws {
            let page = try await options.call { api in
                try await api.listIncidents(query: .init(state: try state.map(wire), limit: limit, cursor: cursor)).ok.body.json
            }
            try options.show(page) { TerminalRenderer.incidents(page) }
        }
    }

    /// `paten incidents show`.

    public struct Show: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "An incident: what opened it, its questions' topics and languages, its updates and questions."
        )

        @OptionGroup var options: ClientOptions
        @Argument(help: "The incident id (inc_...).") var id: String
        @Option(help: "Linked questions per page, 1 to 200.") var questionsLimit: Int?
        @Option(help: "Start after this question id (the end of the previous page).") var questionsAfter: String?

        public init() {}

        public func run() async throws {
            let detail = try await options.call { api in
                try await api.getIncident(
                    path: .init(id: try validID(id, example: "inc_abc123")),
                    query: .init(questionsLimit: questionsLimit, questionsAfter: questionsAfter)
                ).ok.body.json
            }
            try options.show(detail) { TerminalRenderer.incident(detail) }
        }
    }

    /// `paten incidents update`.

    public struct Update: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract:
                "Post an update to an incident's customers; the text comes from the argument, or stdin when absent or '-'."
        )

        @OptionGroup var options: ClientOptions
        @Argument(help: "The incident id (inc_...).") var id: String
        @Argument(help: "The update's text.") var text: String?

        public init() {}

        public func run() async throws {
            let body = try argumentOrStdin(text, missing: "Give the update as an argument or on stdin.")
            let incident = try await options.call { api in
                try await api.postIncidentUpdate(path: .init(id: try validID(id, example: "inc_abc123")), body: .json(.init(body: body)))
                    .created.body.json
            }
            try options.show(incident) { TerminalRenderer.incidentSummary(incident, "posted an update to") }
        }
    }

    /// `paten incidents resolve`.

    public struct Resolve: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract:
                "Resolve an incident with a final message; the text comes from the argument, or stdin when absent or '-'."
        )

        @OptionGroup var options: ClientOptions
        @Argument(help: "The incident id (inc_...).") var id: String
        @Argument(help: "The final message.") var text: String?
        @Flag(help: "Resolve the linked questions that are still open, too.") var resolveQuestions = false

        public init() {}

        public func run() async throws {
            let body = try argumentOrStdin(text, missing: "Give the final message as an argument or on stdin.")
            let incident = try await options.call { api in
                try await api.resolveIncident(
                    path: .init(id: try validID(id, example: "inc_abc123")),
                    body: .json(.init(body: body, resolveQuestions: resolveQuestions))
                ).ok.body.json
            }
            try options.show(incident) { TerminalRenderer.incidentSummary(incident, "resolved") }
        }
    }

    /// `paten incidents link`.

    public struct Link: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Add a question to an open incident.")

        @OptionGroup var options: ClientOptions
        @Argument(help: "The incident id (inc_...).") var id: String
        @Argument(help: "The question id.") var question: String

        public init() {}

        public func run() async throws {
            let incident = try await options.call { api in
                try await api.linkIncidentQuestion(
                    path: .init(id: try validID(id, example: "inc_abc123")), body: .json(.init(questionId: try validID(question)))
                ).ok.body.json
            }
            try options.show(incident) { TerminalRenderer.incidentSummary(incident, "linked \(TerminalRenderer.safe(question)) to") }
        }
    }

    /// `paten incidents unlink`.

    public struct Unlink: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Take a question out of an incident.")

        @OptionGroup var options: ClientOptions
        @Argument(help: "The incident id (inc_...).") var id: String
        @Argument(help: "The question id.") var question: String

        public init() {}

        public func run() async throws {
            let incident = try await options.call { api in
                try await api.unlinkIncidentQuestion(
                    path: .init(id: try validID(id, example: "inc_abc123"), questionId: try validID(question))
                ).ok.body.json
            }
            try options.show(incident) { TerminalRenderer.incidentSummary(incident, "unlinked \(TerminalRenderer.safe(question)) from") }
        }
    }

    /// `paten incidents merge`.

    public struct Merge: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Merge another incident into this one, which takes over its questions."
        )

        @OptionGroup var options: ClientOptions
        @Argument(help: "The incident that stays (inc_...).") var id: String
        @Argument(help: "The incident merged into it (inc_...).") var other: String

        public init() {}

        public func run() async throws {
            let incident = try await options.call { api in
                try await api.mergeIncident(
                    path: .init(id: try validID(id, example: "inc_abc123")),
                    body: .json(.init(incidentId: try validID(other, example: "inc_abc123")))
                ).ok.body.json
            }
            try options.show(incident) { TerminalRenderer.incidentSummary(incident, "merged \(TerminalRenderer.safe(other)) into") }
        }
    }
}

extension IncidentState: ExpressibleByArgument {}
