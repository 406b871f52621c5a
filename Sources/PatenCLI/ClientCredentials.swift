import Foundation
import PatenCore

/// Where the CLI finds the server and its token: `PATEN_URL` and `PATEN_TOKEN`, else the file `paten login` saved
/// (`$XDG_CONFIG_HOME/paten/credentials.json`, or `~/.config/paten/credentials.json`, mode 0600).
public struct ClientCredentials: Codable, Sendable, Equatable {
    public var url: String
    public var token: String

    /// Creates credentials.
    public init(url: String, token: String) {
        self.url = url
        self.token = token
    }

    /// The credentials file's path for an environment.
    public static func filePath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base =
            environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".config")
        return ((base as NSString).appendingPathComponent("paten") as NSString).appendingPathComponent("credentials.json")
    }

    /// Resolves credentials from explicit values, then the environment, then the saved file.
    public static func resolve(
        url: String? = nil, token: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ClientCredentials {
        let saved = try? load(environment: environment)
        let namedURL = url ?? environment["PATEN_URL"]
        // The saved token goes only to the server it was saved for: another URL needs its own token.
        func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
        let savedToken =
            namedURL.map { named in saved.map { trimmed($0.url) == trimmed(named) } ?? false } ?? true
            ? saved?.token : nil
        guard let finalURL = namedURL ?? saved?.url, let finalToken = token ?? environment["PATEN_TOKEN"] ?? savedToken
        else {
            if let namedURL, let saved {
                throw PatenError(
                    .unauthenticated, code: "not_logged_in",
                    message:
                        "No token for \(namedURL): the saved login is for \(saved.url). Give --token (or PATEN_TOKEN), or run 'paten login --url \(namedURL)'."
                )
            }
            throw PatenError(
                .unauthenticated, code: "not_logged_in",
                message: "No server and token: run 'paten login --url URL' (it asks for the token) or set PATEN_URL and PATEN_TOKEN."
            )
        }
        return ClientCredentials(url: finalURL, token: finalToken)
    }

    /// Reads the saved file.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws
        -> ClientCredentials
    {
        let path = filePath(environment: environment)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PatenError.configuration("\(path): no saved login.")
        }
        return try JSONDecoder().decode(ClientCredentials.self, from: data)
    }

    /// Removes the saved login; returns the file's path when there was one, nil when there was none.
    @discardableResult
    public static func remove(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        let path = filePath(environment: environment)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        try FileManager.default.removeItem(atPath: path)
        return path
    }

    /// Where `resolve` finds the URL and the token: "flags", "environment", "saved login (PATH)", or a mix.
    public static func source(
        url: String? = nil, token: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        func origin(_ flag: String?, _ variable: String) -> String {
            if flag != nil { return "--\(variable.dropFirst("PATEN_".count).lowercased())" }
            if environment[variable] != nil { return variable }
            return "saved login (\(filePath(environment: environment)))"
        }
        let urlOrigin = origin(url, "PATEN_URL")
        let tokenOrigin = origin(token, "PATEN_TOKEN")
        return urlOrigin == tokenOrigin ? urlOrigin : "url from \(urlOrigin), token from \(tokenOrigin)"
    }

    /// Writes the file readable by its owner only, replacing any earlier login.
    public func save(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let path = Self.filePath(environment: environment)
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        // Create empty with 0600 first, so the token never sits in a file others can read.
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw PatenError.configuration("\(path): cannot create the credentials file.")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }
}
