import Foundation
import PatenCore
import PatenPostgres
import PatenStorage
import PatenWebhooks

/// Everything a Paten process needs, opened once: configuration, policy, the database and the services over it.
public struct PatenRuntime: Sendable {
    public let configuration: PatenConfiguration
    public let policy: Policy
    /// The database: the data directory's SQLite file, or PostgreSQL when `db_url` is set.
    public let store: any PatenStore & StoreDiagnostics
    public let desk: SupportDesk
    public let directory: HelperDirectory
    public let escalations: EscalationDesk
    public let metrics: MetricsDesk
    /// The volunteer programme: standings, the ledger, grants, payouts and the value report.
    public let programme: ProgrammeDesk
    /// Incidents and similar solved questions.
    public let incidents: IncidentDesk
    public let integrations: IntegrationDirectory
    /// Console sign-in sessions.
    public let consoleSessions: ConsoleSessions
    /// Customers' data: erasure, export and the retention purge.
    public let privacy: PrivacyDesk
    /// Turns verified inbound webhooks into questions and customer messages.
    public let receiver: InboundWebhookReceiver
    /// Where outbound webhooks may go.
    public let destinations: NetworkDestinationGuard
    public let clock: any Clock

    /// Opens the configured database and runs the body with the runtime over it.
    ///
    /// - SQLite (no `db_url`): the data directory's file, created if needed, with pending migrations applied.
    /// - PostgreSQL (`db_url`): a connection pool of `db_pool_size` that runs for as long as the body does. Pending
    ///   migrations stop the start, naming them, unless `db_migrate` is set (`paten serve --migrate`); an
    ///   unreachable server is a `database_unavailable` error.
    ///
    /// New records get time-ordered ids stamped by `clock` unless `ids` is given.
    public static func with<T: Sendable>(
        _ configuration: PatenConfiguration, clock: any Clock = SystemClock(),
        ids: (any IdentifierGenerator)? = nil, _ body: (PatenRuntime) async throws -> T
    ) async throws -> T {
        let ids = ids ?? TimeOrderedIdentifierGenerator(clock: clock)
        let policy = try PolicyFile.load(configuration.policyPath)
        guard let text = configuration.databaseURL else {
            let store = try await openStore(configuration)
            return try await body(try make(configuration, policy: policy, store: store, clock: clock, ids: ids))
        }
        let url = try DatabaseURL(text)
        return try await PostgresStore.with(url, connections: configuration.databasePoolSize) { store in
            let pending = try await store.pendingMigrations()
            if !pending.isEmpty {
                guard configuration.migrateOnStart else {
                    throw PatenError(
                        .unavailable, code: "migrations_pending",
                        message: "PostgreSQL at \(url.redacted) lacks migrations \(pending.joined(separator: ", ")). "
                            + "Run `paten migrate` once, or start with --migrate (db_migrate=true) to apply them."
                    )
                }
                try await store.migrate()
            }
            return try await body(try make(configuration, policy: policy, store: store, clock: clock, ids: ids))
        }
    }

    static func make(
        _ configuration: PatenConfiguration, policy: Policy, store: any PatenStore & StoreDiagnostics, clock: any Clock,
        ids: any IdentifierGenerator
    ) throws -> PatenRuntime {
        let hasher = SHA256SecretHasher()
        let key = try secretsKey(configuration)
        let sealer = try SecretBox(keyBytes: key)
        let ratingLinks = RatingLinks(
            deriver: HMACRatingTokenDeriver(secretsKey: key), hasher: hasher, publicURL: configuration.externalURL
        )
        let destinations = NetworkDestinationGuard(
            allowLoopback: configuration.webhookAllowLoopback, allowPrivate: configuration.webhookAllowPrivate
        )
        let desk = SupportDesk(
            policy: policy, questions: store, ratingLinks: ratingLinks, clock: clock, ids: ids
        )
        let directory = HelperDirectory(
            policy: policy, helpers: store, tokens: store, hasher: hasher, clock: clock, ids: ids
        )
        let integrations = IntegrationDirectory(
            integrations: store, outbox: store, accounts: directory, sealer: sealer, destinations: destinations,
            clock: clock, ids: ids, rotationOverlap: configuration.secretRotationOverlap
        )
        return PatenRuntime(
            configuration: configuration, policy: policy, store: store, desk: desk, directory: directory,
            escalations: EscalationDesk(escalations: store, clock: clock),
            metrics: MetricsDesk(metrics: store, calendar: policy.businessHours, clock: clock),
            programme: ProgrammeDesk(policy: policy, store: store, helpers: store, clock: clock, ids: ids),
            incidents: IncidentDesk(
                policy: policy, incidents: store, questions: store, ratingLinks: ratingLinks, clock: clock, ids: ids
            ),
            integrations: integrations,
            consoleSessions: ConsoleSessions(
                sessions: store, tokens: store, helpers: store, hasher: hasher, clock: clock
            ),
            privacy: PrivacyDesk(store: store, policy: policy, clock: clock, ids: ids),
            receiver: InboundWebhookReceiver(integrations: integrations, accounts: directory, desk: desk, clock: clock),
            destinations: destinations, clock: clock
        )
    }

    /// The key that seals integration secrets: given in the configuration, or read from (and on first use
    /// created in) the key file.
    static func secretsKey(_ configuration: PatenConfiguration) throws -> [UInt8] {
        if let key = configuration.secretsKey { return try SecretBox.decodeKey(key, source: "secrets_key") }
        if configuration.databaseURL != nil {
            // Every instance on one database must open the same secrets: a key made up by one host would leave
            // the others unable to verify or sign.
            guard let file = configuration.secretsKeyFile else {
                throw PatenError.configuration(
                    "secrets_key: on PostgreSQL every instance needs the same key. Set secrets_key (base64 of 32 "
                        + "bytes, e.g. from `openssl rand -base64 32`) or secrets_key_file to a file holding it."
                )
            }
            return try SecretBox.loadKey(at: file)
        }
        return try SecretBox.loadOrCreateKey(at: configuration.secretsKeyPath)
    }

    /// Opens the data directory's database, creating it and (unless told not to) applying pending migrations.
    public static func openStore(_ configuration: PatenConfiguration, migrate: Bool = true) async throws -> SQLiteStore {
        do {
            try FileManager.default.createDirectory(
                atPath: configuration.dataDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw PatenError.configuration(
                "data_dir: cannot create \(configuration.dataDirectory) (\(error.localizedDescription))."
            )
        }
        let store = try SQLiteStore(path: configuration.databasePath)
        if migrate { try await store.migrate() }
        return store
    }
}

/// `paten migrate`: applies pending migrations to the configured database (PostgreSQL when `db_url` is set,
/// else the data directory's SQLite file); returns the database (password left out) and the ids applied.
public func migrateDatabase(_ configuration: PatenConfiguration) async throws -> (String, [String]) {
    if let text = configuration.databaseURL {
        let url = try DatabaseURL(text)
        return (url.redacted, try await PostgresStore.with(url) { try await $0.migrate() })
    }
    return (configuration.databasePath, try await PatenRuntime.openStore(configuration, migrate: false).migrate())
}
