import Foundation
import NIOSSL
import PatenCore
import PostgresNIO

/// A `postgres://user:password@host:port/database?sslmode=...` address, read into a PostgresNIO client
/// configuration. `sslmode` follows libpq: `disable`, `prefer` (the default: TLS when the server offers it, not
/// verified), `require` (TLS, not verified) or `verify-full` (TLS with the certificate checked against the
/// system's roots or `sslrootcert=FILE`, and the host name).
public struct DatabaseURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: String
    public var rootCertificate: String?

    /// Reads the URL; a bad one is a configuration error naming what to fix, never echoing the password.
    public init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw PatenError.configuration("db_url: not a postgres:// URL; write postgres://user:password@host:5432/database.")
        }
        guard let host = components.host, !host.isEmpty else {
            throw PatenError.configuration("db_url: the URL has no host.")
        }
        guard let user = components.user, !user.isEmpty else {
            throw PatenError.configuration("db_url: the URL has no user name.")
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty, !path.contains("/") else {
            throw PatenError.configuration("db_url: the URL names no database (postgres://user@host/DATABASE).")
        }
        var mode = "prefer"
        var root: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, ["disable", "prefer", "require", "verify-full"].contains(value) else {
                    throw PatenError.configuration(
                        "db_url: sslmode must be disable, prefer, require or verify-full."
                    )
                }
                mode = value
            case "sslrootcert":
                root = item.value
            default:
                throw PatenError.configuration("db_url: unknown parameter '\(item.name)'; use sslmode or sslrootcert.")
            }
        }
        self.host = host
        port = components.port ?? 5432
        // URLComponents has already decoded %-escapes in these.
        username = user
        password = components.password
        database = path
        sslMode = mode
        rootCertificate = root
    }

    /// The URL without its password, for messages and logs.
    public var redacted: String { "postgres://\(username)@\(host):\(port)/\(database)?sslmode=\(sslMode)" }

    /// The client configuration, with at most `connections` connections in its pool.
    public func clientConfiguration(connections: Int = 20) throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable":
            tls = .disable
        case "verify-full":
            var settings = TLSConfiguration.makeClientConfiguration()
            if let rootCertificate { settings.trustRoots = .file(rootCertificate) }
            tls = .require(settings)
        default:
            var settings = TLSConfiguration.makeClientConfiguration()
            settings.certificateVerification = .none
            tls = sslMode == "require" ? .require(settings) : .prefer(settings)
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
        configuration.options.maximumConnections = connections
        return configuration
    }
}
