import ArgumentParser
import Foundation
import PatenApp
import PatenCLI
import PatenClient
import PatenCore
import PatenHTTP

struct IntegrationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "integrations",
        abstract: "Connect chat platforms and event subscribers, rotate their secrets, and inspect deliveries.",
        discussion: "With --remote, through a running server with an admin login instead of the database.",
        subcommands: [
            Add.self, List.self, Show.self, Update.self, RotateSecret.self, RevokePrevious.self, Disable.self,
            Enable.self, Deliveries.self, Redeliver.self,
        ]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect an integration; prints its id, then its signing secret (shown only this once)."
        )

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Option(help: "Unique name (the account's handle).") var name: String
        @Option(help: "standard (Standard Webhooks) or slack (Slack Events API).") var kind: IntegrationKind
        @Option(help: "Where outbound events go (standard only).") var outboundURL: String?
        @Option(help: "Comma-separated event types (default: every event when --outbound-url is given).")
        var events: String?
        @Flag(help: "Send events about every question, not only the ones this integration brought in.")
        var allChannels = false
        @Flag(help: "Refuse inbound webhooks (an outbound-only subscriber).") var noInbound = false
        @Option(help: "The Slack app's signing secret (slack only); '-' reads it from stdin, out of ps and history.")
        var secret: String?
        @Flag(help: "JSON instead of text.") var json = false

        func run() async throws {
            if remote.remote {
                let body = Components.Schemas.IntegrationCreate(
                    name: name, kind: try wire(kind), inboundEnabled: !noInbound, outboundUrl: outboundURL,
                    events: try events.map { try eventList($0).map(wire) }, allChannels: allChannels, secret: secretArgument(secret)
                )
                let made = try await remote.call { api in try await api.createIntegration(body: .json(body)).created.body.json }
                if json {
                    print(try TerminalRenderer.json(made))
                } else {
                    print(
                        "integration \(TerminalRenderer.safe(made.integration.id)) (\(TerminalRenderer.safe(made.integration.name))); inbound at POST /hooks/\(TerminalRenderer.safe(made.integration.id))"
                    )
                    print("secret (shown once): \(TerminalRenderer.safe(made.secret))")
                }
                return
            }
            try await options.withRuntime { runtime in
                let made = try await runtime.integrations.create(
                    NewIntegration(
                        name: name, kind: kind, inboundEnabled: !noInbound, outboundURL: outboundURL,
                        events: try events.map(eventList), allChannels: allChannels, slackSecret: secretArgument(secret)
                    )
                )
                if json {
                    print(try TerminalRenderer.json(IntegrationSecretResource(made)))
                } else {
                    print(
                        "integration \(TerminalRenderer.safe(made.integration.id)) (\(TerminalRenderer.safe(made.integration.name))); inbound at POST /hooks/\(TerminalRenderer.safe(made.integration.id))"
                    )
                    print("secret (shown once): \(TerminalRenderer.safe(made.secret))")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List integrations.")

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Flag(help: "JSON instead of a table.") var json = false

        func run() async throws {
            if remote.remote {
                let integrations = try await remote.call { api in try await api.listIntegrations().ok.body.json.integrations }
                print(json ? try TerminalRenderer.json(integrations) : TerminalRenderer.integrations(integrations))
                return
            }
            try await options.withRuntime { runtime in
                let integrations = try await runtime.integrations.list()
                let resources = integrations.map(IntegrationResource.init)
                print(json ? try TerminalRenderer.json(resources) : TerminalRenderer.integrations(try WireForm.of(resources)))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an integration: settings, secrets' validity, delivery counts and the audit trail."
        )

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Argument(help: "The integration's id or name.") var integration: String
        @Flag(help: "JSON instead of text.") var json = false

        func run() async throws {
            if remote.remote {
                let detail = try await remote.call { api in
                    try await api.getIntegration(path: .init(id: integration)).ok.body.json
                }
                print(json ? try TerminalRenderer.json(detail) : TerminalRenderer.integration(detail))
                return
            }
            try await options.withRuntime { runtime in
                let integrations = runtime.integrations
                let detail = IntegrationDetailResource(try await integrations.detail(integration), now: integrations.now)
                print(json ? try TerminalRenderer.json(detail) : TerminalRenderer.integration(try WireForm.of(detail)))
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an integration's settings.")

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Argument(help: "The integration's id or name.") var integration: String
        @Option(help: "New outbound URL; an empty value removes it.") var outboundURL: String?
        @Option(help: "Comma-separated event types (replaces the list).") var events: String?
        @Option(help: "true: events about every question; false: only its own.") var allChannels: Bool?
        @Option(help: "true or false: accept inbound webhooks.") var inbound: Bool?
        @Flag(help: "JSON instead of a table.") var json = false

        func run() async throws {
            if remote.remote {
                if outboundURL == "" {
                    // The generated client leaves out nil fields, so it cannot send the `null` that removes the URL.
                    throw ValidationError(
                        "--outbound-url '' (remove the URL) needs the database; with --remote, use 'integrations disable --outbound'."
                    )
                }
                let change = Components.Schemas.IntegrationUpdate(
                    inboundEnabled: inbound, outboundUrl: outboundURL, events: try events.map { try eventList($0).map(wire) },
                    allChannels: allChannels
                )
                let updated = try await remote.call { api in
                    try await api.updateIntegration(path: .init(id: integration), body: .json(change)).ok.body.json
                }
                print(json ? try TerminalRenderer.json(updated) : TerminalRenderer.integrations([updated]))
                return
            }
            try await options.withRuntime { runtime in
                let integrations = runtime.integrations
                var url: String?? = nil
                if let outboundURL { url = .some(outboundURL.isEmpty ? nil : outboundURL) }
                let updated = try await integrations.update(
                    integration,
                    IntegrationChange(
                        inboundEnabled: inbound, outboundURL: url, events: try events.map(eventList), allChannels: allChannels
                    )
                )
                let resource = IntegrationResource(updated)
                print(json ? try TerminalRenderer.json(resource) : TerminalRenderer.integrations(try WireForm.of([resource])))
            }
        }
    }

    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret",
            abstract: "Give an integration a new secret and print it (shown only this once)."
        )

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Argument(help: "The integration's id or name.") var integration: String
        @Option(help: "How long the previous secret stays valid, in seconds (default 86400; 0 ends it now).")
        var overlap: Int?
        @Option(help: "The new Slack signing secret (slack only); '-' reads it from stdin.") var secret: String?

        func run() async throws {
            if remote.remote {
                let rotation = Components.Schemas.SecretRotation(overlapSeconds: overlap, secret: secretArgument(secret))
                let rotated = try await remote.call { api in
                    try await api.rotateIntegrationSecret(path: .init(id: integration), body: .json(rotation)).ok.body.json
                }
                print(rotated.secret)
                return
            }
            try await options.withRuntime { runtime in
                let integrations = runtime.integrations
                let rotated = try await integrations.rotateSecret(
                    integration, overlap: overlap.map(TimeInterval.init), slackSecret: secretArgument(secret)
                )
                print(rotated.secret)
            }
        }
    }

    struct RevokePrevious: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-previous", abstract: "End the previous secrets now, before their overlap runs out."
        )

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Argument(help: "The integration's id or name.") var integration: String

        func run() async throws {
            if remote.remote {
                let ended = try await remote.call { api in
                    try await api.revokePreviousSecrets(path: .init(id: integration)).ok.body.json.revoked
                }
                print("ended \(ended) previous secret(s)")
                return
            }
            try await options.withRuntime { runtime in
                let integrations = runtime.integrations
                print("ended \(try await integrations.revokePreviousSecrets(integration)) previous secret(s)")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an integration (inbound refused, tokens locked, outbound messages wait), or only its "
                + "outbound endpoint with --outbound."
        )

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Argument(help: "The integration's id or name.") var integration: String
        @Flag(help: "Only stop sending to its endpoint.") var outbound = false

        func run() async throws {
            if remote.remote {
                let change =
                    outbound
                    ? Components.Schemas.IntegrationUpdate(outboundEnabled: false)
                    : Components.Schemas.IntegrationUpdate(state: .disabled)
                let updated = try await remote.call { api in
                    try await api.updateIntegration(path: .init(id: integration), body: .json(change)).ok.body.json
                }
                print(TerminalRenderer.integrations([updated]))
                return
            }
            try await options.withRuntime { runtime in
                let integrations = runtime.integrations
                let change = outbound ? IntegrationChange(outboundEnabled: false) : IntegrationChange(state: .disabled)
                let updated = try await integrations.update(integration, change)
                print(TerminalRenderer.integrations(try WireForm.of([IntegrationResource(updated)])))
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable an integration and its outbound endpoint again; messages that waited are sent."
        )

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Argument(help: "The integration's id or name.") var integration: String

        func run() async throws {
            if remote.remote {
                let updated = try await remote.call { api in
                    let current = try await api.getIntegration(path: .init(id: integration)).ok.body.json.integration
                    let change = Components.Schemas.IntegrationUpdate(
                        state: .active, outboundEnabled: current.outboundUrl == nil ? nil : true
                    )
                    return try await api.updateIntegration(path: .init(id: current.id), body: .json(change)).ok.body.json
                }
                print(TerminalRenderer.integrations([updated]))
                return
            }
            try await options.withRuntime { runtime in
                let integrations = runtime.integrations
                let current = try await integrations.integration(integration)
                var change = IntegrationChange(state: .active)
                if current.outboundURL != nil { change.outboundEnabled = true }
                let updated = try await integrations.update(integration, change)
                print(TerminalRenderer.integrations(try WireForm.of([IntegrationResource(updated)])))
            }
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List an integration's outbound messages with their attempts, newest first."
        )

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Argument(help: "The integration's id or name.") var integration: String
        @Flag(help: "Only dead letters.") var dead = false
        @Option(help: "pending, delivered or dead.") var state: DeliveryState?
        @Option(help: "How many, 1 to 200.") var limit = 50
        @Flag(help: "JSON instead of a table.") var json = false

        func run() async throws {
            if remote.remote {
                let deliveries = try await remote.call { api in
                    try await api.listDeliveries(
                        path: .init(id: integration), query: .init(state: try (dead ? .dead : state).map(wire), limit: limit)
                    ).ok.body.json.deliveries
                }
                print(json ? try TerminalRenderer.json(deliveries) : TerminalRenderer.deliveries(deliveries))
                return
            }
            try await options.withRuntime { runtime in
                let integrations = runtime.integrations
                let records = try await integrations.deliveries(integration, state: dead ? .dead : state, limit: limit)
                let resources = records.map { DeliveryResource($0) }
                print(json ? try TerminalRenderer.json(resources) : TerminalRenderer.deliveries(try WireForm.of(resources)))
            }
        }
    }

    struct Redeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a message again (same webhook-id), or every delivered and dead one since a time."
        )

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Argument(help: "A message id (msg_...), or an integration's id or name with --since.") var target: String
        @Option(help: "RFC 3339 time: redeliver the integration's messages written since then.") var since: String?

        func run() async throws {
            if remote.remote {
                let line = try await remote.call { api in
                    if let since {
                        let time = try sinceTime(since)
                        let queued = try await api.redeliverSince(path: .init(id: target), body: .json(.init(since: time)))
                            .ok.body.json.queued
                        return "queued \(queued) message(s)"
                    }
                    let message = try await api.redeliver(path: .init(id: target)).ok.body.json
                    return "queued \(message.id) (\(message.eventType.rawValue))"
                }
                print(line)
                return
            }
            try await options.withRuntime { runtime in
                let integrations = runtime.integrations
                if let since {
                    print("queued \(try await integrations.redeliver(target, since: try sinceTime(since))) message(s)")
                } else {
                    let message = try await integrations.redeliver(target)
                    print("queued \(message.id) (\(message.eventType))")
                }
            }
        }
    }
}

/// The `--since` time of `integrations redeliver`.
func sinceTime(_ text: String) throws -> Date {
    guard let time = APICoding.parse(text) else {
        throw PatenError.malformed("invalid_since", "--since must be an RFC 3339 time such as 2026-11-23T08:00:00Z.")
    }
    return time
}

/// A secret given as an option, or read from stdin when the option is `-`.
func secretArgument(_ value: String?) -> String? {
    guard value == "-" else { return value }
    return readLine(strippingNewline: true)
}

/// Reads "question.created, question.replied" as event types, naming the valid ones on a typo.
func eventList(_ text: String) throws -> [OutboundEventType] {
    try commaList(text).map { name in
        guard let event = OutboundEventType(rawValue: name) else {
            throw PatenError.malformed(
                "invalid_event",
                "'\(name)' is not an event; use: "
                    + OutboundEventType.allCases.map(\.rawValue).joined(separator: ", ") + "."
            )
        }
        return event
    }
}

extension IntegrationKind: ExpressibleByArgument {}
extension DeliveryState: ExpressibleByArgument {}
