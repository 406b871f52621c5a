import Configuration
import Foundation
import Logging
import PatenCore
import SystemPackage

/// The service settings, read once at start from flags, then environment (`PATEN_*`), then the config file
/// (`Config/paten.json`), then built-in defaults.
public struct PatenConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Where the embedded database and other local state live.
    public var dataDirectory = "./data"
    /// The routing policy file; nil means Config/policy.json when it exists, else the policy built into the binary.
    public var policyPath: String?
    public var logLevel = Logger.Level.info
    /// `text` or `json` log lines; nil: text on a terminal, JSON otherwise.
    public var logFormat: LogFormat?
    /// How often the claim-lease expiry service looks for leases that ran out.
    public var leaseSweepInterval: Duration = .seconds(15)
    /// How often the escalation sweeper looks for clocks that are due.
    public var sweepInterval: Duration = .seconds(5)
    /// The address customers and integrations reach this service at (the base of rating links); nil means
    /// http://host:port.
    public var publicURL: String?

    /// The file holding the key that seals integration secrets; nil means `secrets.key` in the data directory
    /// (created with mode 0600 on first use).
    public var secretsKeyFile: String?
    /// The key itself (base64 of 32 bytes), instead of a file; from `PATEN_SECRETS_KEY`, say.
    public var secretsKey: String?
    /// How long a rotated-out integration secret stays valid.
    public var secretRotationOverlap: TimeInterval = 86400
    /// Whether outbound webhooks may go to loopback addresses (tests, a bridge on the same host).
    public var webhookAllowLoopback = false
    /// Whether outbound webhooks may go to private networks (RFC 1918, unique local, CGNAT).
    public var webhookAllowPrivate = false
    /// The waits between delivery attempts (the Standard Webhooks schedule unless configured).
    public var webhookRetrySchedule = RetrySchedule.standard
    /// How often the deliverer looks for due outbox messages.
    public var deliveryInterval: Duration = .milliseconds(500)

    /// A PostgreSQL database (`postgres://user:password@host:port/db?sslmode=...`) instead of the embedded
    /// SQLite file, shared by every instance; see docs/deployment.md.
    public var databaseURL: String?
    /// Connections each process keeps open to PostgreSQL at most.
    public var databasePoolSize = 20
    /// Whether a process on PostgreSQL applies pending migrations at start instead of refusing to start.
    public var migrateOnStart = false

    /// How long a keep-alive connection may sit with no request before the server closes it.
    public var httpIdleTimeout: Duration = .seconds(60)
    /// How long a client may take to send a request's line and headers, from its first byte.
    public var httpReadHeaderTimeout: Duration = .seconds(10)
    /// How long a client may take to send a whole request, body included, from its first byte.
    public var httpReadTimeout: Duration = .seconds(60)
    /// Open connections at most; further connections wait in the listen backlog until one closes.
    public var httpMaxConnections = 1000
    /// How often an open escalation stream checks that its token and account still allow it.
    public var streamRecheckInterval: Duration = .seconds(5)
    /// How often an open escalation stream sends a heartbeat comment when nothing happens.
    public var streamHeartbeatInterval: Duration = .seconds(15)
    /// Escalation streams one account may hold open at once (per process).
    public var streamsPerAccount = 4
    /// How long `/metrics` reuses the gauges it read from the database; zero reads them on every scrape.
    public var metricsCacheDuration: Duration = .seconds(5)
    /// When set, `/metrics` answers only `Authorization: Bearer <metrics_token>`.
    public var metricsToken: String?

    /// The key file in use.
    public var secretsKeyPath: String {
        secretsKeyFile ?? (dataDirectory as NSString).appendingPathComponent("secrets.key")
    }

    /// The base of links this service hands out.
    public var externalURL: String { publicURL ?? "http://\(host):\(port)" }

    /// Creates the defaults.
    public init() {}

    /// The SQLite database file.
    public var databasePath: String { (dataDirectory as NSString).appendingPathComponent("paten.sqlite") }

    /// Values given on the command line; nil means "not given".
    public struct Overrides: Sendable {
        public var host: String?
        public var port: Int?
        public var dataDirectory: String?
        public var policyPath: String?
        public var logLevel: String?
        /// Another config file than Config/paten.json.
        public var configFile: String?

        /// Creates overrides.
        public init(
            host: String? = nil, port: Int? = nil, dataDirectory: String? = nil, policyPath: String? = nil,
            logLevel: String? = nil, configFile: String? = nil
        ) {
            self.host = host
            self.port = port
            self.dataDirectory = dataDirectory
            self.policyPath = policyPath
            self.logLevel = logLevel
            self.configFile = configFile
        }
    }

    /// The default config file, read when it exists.
    public static let defaultConfigFile = "Config/paten.json"

    /// Reads the settings from every source in order of precedence, validating each.
    public static func load(
        _ overrides: Overrides = Overrides(), environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> PatenConfiguration {
        let explicitFile = overrides.configFile ?? environment["PATEN_CONFIG"]
        let file = explicitFile ?? defaultConfigFile
        var flags: [AbsoluteConfigKey: ConfigValue] = [:]
        func flag(_ key: String, _ value: ConfigContent?) {
            if let value { flags[AbsoluteConfigKey([key])] = ConfigValue(value, isSecret: false) }
        }
        flag("host", overrides.host.map(ConfigContent.string))
        flag("port", overrides.port.map(ConfigContent.int))
        flag("data_dir", overrides.dataDirectory.map(ConfigContent.string))
        flag("policy", overrides.policyPath.map(ConfigContent.string))
        flag("log_level", overrides.logLevel.map(ConfigContent.string))
        let fileProvider: FileProvider<JSONSnapshot>
        do {
            fileProvider = try await FileProvider<JSONSnapshot>(
                filePath: FilePath(file), allowMissing: explicitFile == nil
            )
        } catch {
            throw PatenError.configuration("\(file): cannot read the config file (\(error)).")
        }
        let reader = ConfigReader(providers: [
            InMemoryProvider(name: "flags", values: flags),
            // Asking for `port` reads PATEN_PORT.
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "paten"),
            fileProvider,
        ])

        var settings = PatenConfiguration()
        settings.host = reader.string(forKey: "host") ?? settings.host
        if let port = try integer(reader, "port") {
            guard (0...65535).contains(port) else {
                throw PatenError.configuration("port: \(port) is not a TCP port; use 0 to 65535.")
            }
            settings.port = port
        }
        settings.dataDirectory = reader.string(forKey: "data_dir") ?? settings.dataDirectory
        settings.policyPath = reader.string(forKey: "policy")
        if let level = reader.string(forKey: "log_level") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw PatenError.configuration(
                    "log_level: '\(level)' is not a level; use trace, debug, info, notice, warning, error or critical."
                )
            }
            settings.logLevel = parsed
        }
        if let format = reader.string(forKey: "log_format") {
            guard let parsed = LogFormat(rawValue: format.lowercased()) else {
                throw PatenError.configuration("log_format: '\(format)' is not a format; use text or json.")
            }
            settings.logFormat = parsed
        }
        if let seconds = try integer(reader, "lease_sweep_interval") {
            guard seconds >= 1 else {
                throw PatenError.configuration("lease_sweep_interval: must be at least 1 second.")
            }
            settings.leaseSweepInterval = .seconds(seconds)
        }
        if let milliseconds = try integer(reader, "sweep_interval_ms") {
            guard milliseconds >= 10 else {
                throw PatenError.configuration("sweep_interval_ms: must be at least 10 milliseconds.")
            }
            settings.sweepInterval = .milliseconds(milliseconds)
        }
        settings.databaseURL = reader.string(forKey: "db_url", isSecret: true)
        if let size = try integer(reader, "db_pool_size") {
            guard (1...500).contains(size) else {
                throw PatenError.configuration("db_pool_size: \(size) connections; use 1 to 500.")
            }
            settings.databasePoolSize = size
        }
        settings.migrateOnStart = try boolean(reader, "db_migrate") ?? false
        settings.secretsKeyFile = reader.string(forKey: "secrets_key_file")
        settings.secretsKey = reader.string(forKey: "secrets_key", isSecret: true)
        if let seconds = try integer(reader, "secret_rotation_overlap") {
            guard (0...30 * 86400).contains(seconds) else {
                throw PatenError.configuration("secret_rotation_overlap: use 0 to 2592000 seconds (30 days).")
            }
            settings.secretRotationOverlap = TimeInterval(seconds)
        }
        settings.webhookAllowLoopback = try boolean(reader, "webhook_allow_loopback") ?? false
        settings.webhookAllowPrivate = try boolean(reader, "webhook_allow_private") ?? false
        if let schedule = reader.string(forKey: "webhook_retry_schedule") {
            settings.webhookRetrySchedule = try RetrySchedule.parse(schedule)
        }
        if let milliseconds = try integer(reader, "delivery_interval_ms") {
            guard milliseconds >= 10 else {
                throw PatenError.configuration("delivery_interval_ms: must be at least 10 milliseconds.")
            }
            settings.deliveryInterval = .milliseconds(milliseconds)
        }
        try loadServerLimits(reader, into: &settings)
        if let url = reader.string(forKey: "public_url") {
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), URL(string: url)?.host != nil else {
                throw PatenError.configuration("public_url: '\(url)' is not an http(s) URL.")
            }
            settings.publicURL = url
        }
        return settings
    }

    /// The HTTP server's timeouts and caps, the escalation stream's limits and the `/metrics` settings.
    private static func loadServerLimits(_ reader: ConfigReader, into settings: inout PatenConfiguration) throws {
        func seconds(_ key: String, _ range: ClosedRange<Int>) throws -> Duration? {
            guard let value = try integer(reader, key) else { return nil }
            guard range.contains(value) else {
                throw PatenError.configuration("\(key): \(value) seconds; use \(range.lowerBound) to \(range.upperBound).")
            }
            return .seconds(value)
        }
        func count(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value = try integer(reader, key) else { return nil }
            guard range.contains(value) else {
                throw PatenError.configuration("\(key): \(value); use \(range.lowerBound) to \(range.upperBound).")
            }
            return value
        }
        settings.httpIdleTimeout = try seconds("http_idle_timeout", 1...86400) ?? settings.httpIdleTimeout
        settings.httpReadHeaderTimeout = try seconds("http_read_header_timeout", 1...3600) ?? settings.httpReadHeaderTimeout
        settings.httpReadTimeout = try seconds("http_read_timeout", 1...3600) ?? settings.httpReadTimeout
        guard settings.httpReadTimeout >= settings.httpReadHeaderTimeout else {
            throw PatenError.configuration(
                "http_read_timeout: must be at least http_read_header_timeout (the head is part of the request)."
            )
        }
        settings.httpMaxConnections = try count("http_max_connections", 1...1_000_000) ?? settings.httpMaxConnections
        settings.streamRecheckInterval = try seconds("stream_recheck_interval", 1...300) ?? settings.streamRecheckInterval
        settings.streamHeartbeatInterval =
            try seconds("stream_heartbeat_interval", 1...3600) ?? settings.streamHeartbeatInterval
        settings.streamsPerAccount = try count("streams_per_account", 1...100) ?? settings.streamsPerAccount
        settings.metricsCacheDuration = try seconds("metrics_cache_seconds", 0...3600) ?? settings.metricsCacheDuration
        if let token = reader.string(forKey: "metrics_token", isSecret: true) {
            guard token.utf8.count >= 16, token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw PatenError.configuration(
                    "metrics_token: use at least 16 printable characters without spaces (e.g. `openssl rand -hex 32`)."
                )
            }
            settings.metricsToken = token
        }
    }

    private static func boolean(_ reader: ConfigReader, _ key: String) throws -> Bool? {
        if let value = reader.bool(forKey: ConfigKey(key)) { return value }
        if let text = reader.string(forKey: ConfigKey(key)) {
            throw PatenError.configuration("\(key): '\(text)' is not true or false.")
        }
        return nil
    }

    private static func integer(_ reader: ConfigReader, _ key: String) throws -> Int? {
        if let value = reader.int(forKey: ConfigKey(key)) { return value }
        if let text = reader.string(forKey: ConfigKey(key)) {
            throw PatenError.configuration("\(key): '\(text)' is not a whole number.")
        }
        return nil
    }
}
