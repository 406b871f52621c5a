import ArgumentParser
import Foundation
import PatenApp
import PatenCore
import Testing

@testable import PatenCLI
@testable import paten

@Suite("Command-line parsing")
struct CommandLineTests {
    @Test("Client commands take an id, options and --json")
    func clientCommands() throws {
        let claim = try #require(try Paten.parseAsRoot(["claim", "q_abc", "--json", "--url", "http://h:1"]) as? Claim)
        #expect(claim.id == "q_abc")
        #expect(claim.options.json)
        #expect(claim.options.url == "http://h:1")
        let reply = try #require(try Paten.parseAsRoot(["reply", "q_abc", "Have you tried restarting?"]) as? Reply)
        #expect(reply.text == "Have you tried restarting?")
        #expect(try reply.replyText() == "Have you tried restarting?")
        let queue = try #require(try Paten.parseAsRoot(["queue", "--tier", "staff", "--limit", "5"]) as? Queue)
        #expect(queue.tier == .staff)
        #expect(queue.limit == 5)
    }

    @Test("helpers add splits comma lists and checks the role")
    func helpersAdd() throws {
        let add = try #require(
            try Paten.parseAsRoot([
                "helpers", "add", "--handle", "vera", "--role", "volunteer", "--skills", "roaming, mobile_data",
                "--languages", "en,de", "--data-dir", "/tmp/x",
            ]) as? HelpersCommand.Add
        )
        #expect(add.role == .volunteer)
        #expect(add.skills == ["roaming", "mobile_data"])
        #expect(add.languages == ["en", "de"])
        #expect(add.options.dataDirectory == "/tmp/x")
        #expect(throws: (any Error).self) { try Paten.parseAsRoot(["helpers", "add", "--handle", "x", "--role", "boss"]) }
        #expect(throws: (any Error).self) { try Paten.parseAsRoot(["claim"]) }
    }

    @Test("integrations commands take their options; event names are checked with the valid ones listed")
    func integrationsCommands() throws {
        let add = try #require(
            try Paten.parseAsRoot([
                "integrations", "add", "--name", "bridge", "--kind", "standard", "--outbound-url", "https://b.example/h",
                "--events", "question.replied, question.resolved", "--all-channels", "--no-inbound",
            ]) as? IntegrationsCommand.Add
        )
        #expect(add.kind == .standard && add.allChannels && add.noInbound)
        #expect(try add.events.map(eventList) == [.questionReplied, .questionResolved])
        let typo = #expect(throws: PatenError.self) { try eventList("question.replyed") }
        #expect(typo?.message.contains("question.replied") == true)
        #expect(throws: (any Error).self) { try Paten.parseAsRoot(["integrations", "add", "--name", "x", "--kind", "teams"]) }
        let rotate = try #require(
            try Paten.parseAsRoot(["integrations", "rotate-secret", "bridge", "--overlap", "0"]) as? IntegrationsCommand.RotateSecret
        )
        #expect(rotate.overlap == 0)
        let deliveries = try #require(
            try Paten.parseAsRoot(["integrations", "deliveries", "bridge", "--dead"]) as? IntegrationsCommand.Deliveries
        )
        #expect(deliveries.dead)
        let redeliver = try #require(
            try Paten.parseAsRoot(["integrations", "redeliver", "bridge", "--since", "2026-11-23T08:00:00Z"])
                as? IntegrationsCommand.Redeliver
        )
        #expect(redeliver.since == "2026-11-23T08:00:00Z")
    }

    @Test("serve takes the documented settings flags")
    func serveFlags() async throws {
        let serve = try #require(
            try Paten.parseAsRoot([
                "serve", "--host", "0.0.0.0", "--port", "9000", "--data-dir", "/srv/paten", "--log-level", "debug",
                "--config", "/nonexistent-is-fine-only-if-default",
            ]) as? Serve
        )
        #expect(serve.options.port == 9000)
        #expect(serve.options.host == "0.0.0.0")
        #expect(serve.options.logLevel == "debug")
        #expect(!serve.migrate)
        #expect(try #require(try Paten.parseAsRoot(["serve", "--migrate"]) as? Serve).migrate)
        #expect(try #require(try Paten.parseAsRoot(["worker", "--migrate"]) as? Worker).migrate)
    }

    @Test("Database settings are read from the environment; PostgreSQL is off unless db_url is set")
    func databaseSettings() async throws {
        let defaults = try await PatenConfiguration.load(environment: [:])
        #expect(defaults.databaseURL == nil)
        #expect(defaults.databasePoolSize == 20)
        #expect(!defaults.migrateOnStart)
        let settings = try await PatenConfiguration.load(environment: [
            "PATEN_DB_URL": "postgres://paten@db:5432/paten", "PATEN_DB_POOL_SIZE": "8", "PATEN_DB_MIGRATE": "true",
        ])
        #expect(settings.databaseURL == "postgres://paten@db:5432/paten")
        #expect(settings.databasePoolSize == 8)
        #expect(settings.migrateOnStart)
    }
}

@Suite("Configuration")
struct ConfigurationTests {
    func writeConfig(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("paten-config-\(UUID().uuidString).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("Flags beat environment, environment beats the file, the file beats defaults")
    func precedence() async throws {
        let file = try writeConfig(#"{"host": "10.0.0.1", "port": 7000, "data_dir": "/file", "log_level": "debug"}"#)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let environment = ["PATEN_PORT": "7100", "PATEN_DATA_DIR": "/env"]
        let settings = try await PatenConfiguration.load(
            PatenConfiguration.Overrides(dataDirectory: "/flag", configFile: file), environment: environment
        )
        #expect(settings.host == "10.0.0.1")
        #expect(settings.port == 7100)
        #expect(settings.dataDirectory == "/flag")
        #expect(settings.logLevel == .debug)
        #expect(settings.policyPath == nil)
    }

    @Test("Bad values are refused with the setting's name")
    func badValues() async throws {
        await #expect(throws: PatenError.self) {
            _ = try await PatenConfiguration.load(environment: ["PATEN_PORT": "eighty"])
        }
        do {
            _ = try await PatenConfiguration.load(environment: ["PATEN_LOG_LEVEL": "loud"])
            Issue.record("expected an error")
        } catch let error as PatenError {
            #expect(error.message.hasPrefix("log_level:"))
        }
        await #expect(throws: PatenError.self) {
            _ = try await PatenConfiguration.load(PatenConfiguration.Overrides(configFile: "/nonexistent/paten.json"))
        }
        for (key, value) in [
            ("PATEN_WEBHOOK_RETRY_SCHEDULE", "5x"), ("PATEN_WEBHOOK_RETRY_SCHEDULE", "0s"),
            ("PATEN_WEBHOOK_RETRY_SCHEDULE", "2d"), ("PATEN_WEBHOOK_ALLOW_LOOPBACK", "maybe"),
            ("PATEN_SECRET_ROTATION_OVERLAP", "-1"), ("PATEN_DELIVERY_INTERVAL_MS", "1"),
            ("PATEN_DB_POOL_SIZE", "0"), ("PATEN_DB_POOL_SIZE", "many"), ("PATEN_DB_MIGRATE", "perhaps"),
        ] {
            let error = await #expect(throws: PatenError.self, "\(key)=\(value)") {
                _ = try await PatenConfiguration.load(environment: [key: value])
            }
            let name = key.dropFirst("PATEN_".count).lowercased()
            #expect(error?.message.hasPrefix(name) == true, "\(error?.message ?? "")")
        }
    }

    @Test("Webhook settings are read from the environment")
    func webhookSettings() async throws {
        let settings = try await PatenConfiguration.load(environment: [
            "PATEN_WEBHOOK_RETRY_SCHEDULE": "1s, 2s,4s", "PATEN_WEBHOOK_ALLOW_LOOPBACK": "true",
            "PATEN_SECRET_ROTATION_OVERLAP": "3600", "PATEN_DELIVERY_INTERVAL_MS": "100",
        ])
        #expect(settings.webhookRetrySchedule == RetrySchedule(delays: [1, 2, 4], jitter: 0.2))
        #expect(settings.webhookRetrySchedule.maxAttempts == 4)
        #expect(settings.webhookAllowLoopback && !settings.webhookAllowPrivate)
        #expect(settings.secretRotationOverlap == 3600)
        #expect(settings.deliveryInterval == .milliseconds(100))
        #expect(try await PatenConfiguration.load(environment: [:]).webhookRetrySchedule == .standard)
    }

    @Test("paten login saves credentials readable by the owner only, and the environment overrides them")
    func credentials() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("paten-home-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let environment = ["XDG_CONFIG_HOME": home]
        let path = try ClientCredentials(url: "http://127.0.0.1:8080", token: "pat_saved").save(environment: environment)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        #expect(try ClientCredentials.resolve(environment: environment).token == "pat_saved")
        var overridden = environment
        overridden["PATEN_TOKEN"] = "pat_env"
        #expect(try ClientCredentials.resolve(environment: overridden).token == "pat_env")
        #expect(throws: PatenError.self) { try ClientCredentials.resolve(environment: ["XDG_CONFIG_HOME": home + "/none"]) }
    }
}

@Suite("Staff command-line parsing")
struct StaffCommandLineTests {
    @Test("escalate, escalations, ack and metrics parse their arguments")
    func staffCommands() throws {
        let escalate = try #require(
            try Paten.parseAsRoot(["escalate", "q_1", "--note", "Tried APN reset", "--level", "2"]) as? Escalate
        )
        #expect(escalate.note == "Tried APN reset" && escalate.level == 2)
        #expect(throws: (any Error).self) { try Paten.parseAsRoot(["escalate", "q_1"]) }
        let watch = try #require(try Paten.parseAsRoot(["escalations", "--watch", "--state", "acknowledged"]) as? Escalations.List)
        #expect(watch.watch && watch.state == .acknowledged)
        let resolve = try #require(try Paten.parseAsRoot(["escalations", "resolve", "esc_1"]) as? Escalations.Resolve)
        #expect(resolve.id == "esc_1")
        #expect((try Paten.parseAsRoot(["ack", "esc_1"]) as? Ack)?.id == "esc_1")
        let export = try #require(
            try Paten.parseAsRoot(["metrics", "export", "--format", "csv", "--from", "2026-11-01", "-o", "out.csv"])
                as? MetricsCommand.Export
        )
        #expect(export.output == "out.csv" && export.from == "2026-11-01")
        let summary = try #require(try Paten.parseAsRoot(["metrics", "summary", "--group-by", "helper"]) as? MetricsCommand.Summary)
        #expect(summary.groupBy == .helper)
    }
}
