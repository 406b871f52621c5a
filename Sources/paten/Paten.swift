import ArgumentParser
import Foundation
import PatenApp
import PatenCLI
import PatenCore

/// The `paten` executable: server commands, admin commands on the data directory, and the volunteer and staff
/// client. Every command is a thin layer: over PatenApp on the server side, over PatenCLI (which links only the
/// generated PatenClient) for the commands that talk to a running server.
@main
struct Paten: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paten",
        abstract: "Community support where customers help customers, and staff take the rest.",
        discussion: """
            Client commands talk to a running server: run 'paten login' once (it asks for the token, or reads it \
            from stdin with --token -), or set PATEN_URL and PATEN_TOKEN.

            Exit codes:
            \(CLIExit.table)

            Shell completions: paten --generate-completion-script bash|zsh|fish (docs/cli.md).
            """,
        version: PatenVersion.current,
        subcommands: [
            Serve.self, Migrate.self, HelpersCommand.self, TokensCommand.self, IntegrationsCommand.self, PolicyCommand.self,
            Login.self, Logout.self, StatusCommand.self, Queue.self, Show.self, Claim.self, Release.self, Reply.self,
            Resolve.self, Reopen.self, Escalate.self, Escalations.self, Ack.self, MetricsCommand.self, Me.self,
            Leaderboard.self, PayoutsCommand.self, IncidentsCommand.self, CustomersCommand.self, Worker.self, DevCommand.self,
        ]
    )

    /// Runs the command; a failure becomes one line on stderr (usage errors with the usage) and the exit code of
    /// its kind (`CLIExit`).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let status = CLIExit.status(for: error)
            if let error = error as? PatenError {
                // The message may come from the server and quote what a client sent.
                FileHandle.standardError.write(Data("paten: \(TerminalRenderer.safe(error.message, multiline: true))\n".utf8))
            } else {
                // Help, --version and completion scripts go to stdout; usage errors to stderr.
                let message = fullMessage(for: error)
                if !message.isEmpty {
                    let line = Data((message.hasSuffix("\n") ? message : message + "\n").utf8)
                    if status == CLIExit.success {
                        FileHandle.standardOutput.write(line)
                    } else {
                        FileHandle.standardError.write(line)
                    }
                }
            }
            Foundation.exit(status)
        }
    }
}
