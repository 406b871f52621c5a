import ArgumentParser
import Foundation
import PatenApp
import PatenCore

/// The `paten` executable: server commands, admin commands on the data directory, and the volunteer and staff
/// client. Every command is a thin layer over PatenApp.
@main
struct Paten: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paten",
        abstract: "Community support where customers help customers, and staff take the rest.",
        subcommands: [
            Serve.self, Migrate.self, HelpersCommand.self, TokensCommand.self, IntegrationsCommand.self, PolicyCommand.self,
            Login.self, Queue.self, Show.self, Claim.self, Release.self, Reply.self, Resolve.self, Reopen.self,
            Escalate.self, Escalations.self, Ack.self, MetricsCommand.self, Me.self, Leaderboard.self, PayoutsCommand.self,
            IncidentsCommand.self, Worker.self, DevCommand.self,
        ]
    )

    /// Runs the command; a `PatenError` becomes one line on stderr and exit code 1.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as PatenError {
            // The message may come from the server and quote what a client sent.
            FileHandle.standardError.write(Data("paten: \(TerminalRenderer.safe(error.message, multiline: true))\n".utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}
