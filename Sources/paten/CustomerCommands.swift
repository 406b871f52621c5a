import ArgumentParser
import Foundation
import PatenApp
import PatenCLI
import PatenClient
import PatenCore
import PatenHTTP

struct CustomersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers",
        abstract: "Erase or export a customer's data, and list erasures, in the database (docs/privacy.md).",
        discussion: "erase and erasures also take --remote: through a running server with an admin login.",
        subcommands: [Erase.self, Export.self, Erasures.self]
    )

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a customer's name, id and words with tombstones in every question (counts, times and scores stay).",
            discussion: """
                CHANNEL is 'api' or the integration id the customer wrote through (their questions' channel). \
                Erasing again changes nothing more. The audit fact (who, when, how many questions) is printed and \
                kept; the customer's id is not.
                """
        )

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Argument(help: "'api' or the integration id (int_...).") var channel: String
        @Argument(help: "The customer's id in that channel.") var customerId: String
        @Option(help: "The admin account (handle or id) the audit fact names (on the database; --remote uses the login's).")
        var admin: String?
        @Flag(help: "JSON instead of text.") var json = false

        func validate() throws {
            if remote.remote && admin != nil {
                throw ValidationError("--admin is for the database; with --remote the audit fact names your login.")
            }
            if !remote.remote && admin == nil {
                throw ValidationError("Name the admin the audit fact records with --admin HANDLE (or use --remote).")
            }
        }

        func run() async throws {
            if remote.remote {
                let erasure = try await remote.call { api in
                    try await api.eraseCustomer(path: .init(channel: channel, customerId: customerId)).ok.body.json
                }
                print(
                    json
                        ? try TerminalRenderer.json(erasure)
                        : "erasure \(TerminalRenderer.safe(erasure.id)): \(erasure.questions) question(s) redacted on "
                            + TerminalRenderer.safe(erasure.channel)
                )
                return
            }
            try await options.withRuntime { runtime in
                let actor = try await runtime.directory.helper(admin ?? "")
                let erasure = try await runtime.privacy.erase(channel: channel, customerId: customerId, by: actor)
                if json {
                    print(try TerminalRenderer.json(ErasureResource(erasure)))
                } else {
                    print("erasure \(erasure.id): \(erasure.questions) question(s) redacted on \(TerminalRenderer.safe(erasure.channel))")
                }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print everything stored about a customer as one JSON document (the API's export)."
        )

        @OptionGroup var options: ServerOptions
        @Argument(help: "'api' or the integration id (int_...).") var channel: String
        @Argument(help: "The customer's id in that channel.") var customerId: String
        @Option(help: "The admin account (handle or id) asking.") var admin: String

        func run() async throws {
            try await options.withRuntime { runtime in
                let actor = try await runtime.directory.helper(admin)
                let privacy = runtime.privacy
                var page = try await privacy.export(channel: channel, customerId: customerId, after: nil, by: actor)
                let output = FileHandle.standardOutput
                output.write(
                    Data(
                        try CustomerExportJSON.opening(channel: channel, customerId: customerId, exportedAt: privacy.now())
                            .utf8
                    )
                )
                var isFirst = true
                while true {
                    for entry in page.questions {
                        output.write(Data(try CustomerExportJSON.question(entry, first: isFirst).utf8))
                        isFirst = false
                    }
                    guard let next = page.next else { break }
                    page = try await privacy.export(channel: channel, customerId: customerId, after: next, by: actor)
                }
                output.write(Data(CustomerExportJSON.closing.utf8))
            }
        }
    }

    struct Erasures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the latest erasures' audit facts, newest first.")

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Option(help: "How many (1 to 1000).") var limit: Int = 100
        @Flag(help: "JSON instead of a table.") var json = false

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000.") }
        }

        func run() async throws {
            if remote.remote {
                let list = try await remote.call { api in try await api.listErasures(query: .init(limit: limit)).ok.body.json }
                if json {
                    print(try TerminalRenderer.json(list))
                } else {
                    for erasure in list.erasures {
                        print(Self.line(erasure.id, erasure.erasedAt, erasure.channel, erasure.erasedBy, erasure.questions))
                    }
                }
                return
            }
            try await options.withRuntime { runtime in
                let erasures = try await runtime.privacy.erasures(limit: limit)
                if json {
                    print(try TerminalRenderer.json(ErasureListResource(erasures: erasures.map(ErasureResource.init))))
                } else {
                    for erasure in erasures {
                        print(Self.line(erasure.id, erasure.erasedAt, erasure.channel, erasure.erasedBy, erasure.questions))
                    }
                }
            }
        }

        /// One audit fact as a line.
        static func line(_ id: String, _ at: Date, _ channel: String, _ by: String, _ questions: Int) -> String {
            let safe = TerminalRenderer.safe
            return "\(safe(id, false))  \(RFC3339.format(at))  \(safe(channel, false))  by \(safe(by, false))  \(questions) question(s)"
        }
    }
}
