import Foundation

/// A failure a caller can act on: a machine-readable code, a human message, and what kind of failure it is.
public struct PatenError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The class of failure; transports map it to their own status vocabulary.
    public enum Kind: String, Sendable {
        case malformed
        case unauthenticated
        case forbidden
        case notFound
        case conflict
        case tooLarge
        case unprocessable
        case unavailable
        /// Too many requests of this kind for now; `details["retry_after"]` says how many seconds to wait.
        case tooManyRequests
        case configuration
    }

    /// What went wrong, broadly.
    public let kind: Kind
    /// A stable snake_case code clients can branch on.
    public let code: String
    /// What is wrong and how to fix it.
    public let message: String
    /// Extra machine-readable facts, such as the current holder of a claimed question.
    public let details: [String: String]

    /// Creates an error of the given kind.
    public init(_ kind: Kind, code: String, message: String, details: [String: String] = [:]) {
        self.kind = kind
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { message }
}

extension PatenError {
    /// A request whose syntax is wrong.
    public static func malformed(_ code: String, _ message: String) -> PatenError {
        PatenError(.malformed, code: code, message: message)
    }

    /// A request that breaks a rule although it is well formed.
    public static func unprocessable(_ code: String, _ message: String) -> PatenError {
        PatenError(.unprocessable, code: code, message: message)
    }

    /// A caller whose role may not do this.
    public static func forbidden(_ code: String, _ message: String) -> PatenError {
        PatenError(.forbidden, code: code, message: message)
    }

    /// A conflict with the current state.
    public static func conflict(_ code: String, _ message: String, details: [String: String] = [:]) -> PatenError {
        PatenError(.conflict, code: code, message: message, details: details)
    }

    /// An id that names nothing the caller may see.
    public static func notFound(_ what: String, id: String) -> PatenError {
        PatenError(.notFound, code: "\(what)_not_found", message: "No \(what) with id '\(id)' exists.")
    }

    /// Missing or invalid credentials.
    public static let unauthenticated = PatenError(
        .unauthenticated,
        code: "unauthenticated",
        message: "Send a valid token as 'Authorization: Bearer <token>'."
    )

    /// A caller that must slow down: try again after `retryAfter` seconds (sent as `Retry-After`).
    public static func tooManyRequests(_ code: String, _ message: String, retryAfter: Int) -> PatenError {
        PatenError(.tooManyRequests, code: code, message: message, details: ["retry_after": String(max(1, retryAfter))])
    }

    /// A configuration file or setting that cannot be used.
    public static func configuration(_ message: String) -> PatenError {
        PatenError(.configuration, code: "invalid_configuration", message: message)
    }
}

/// A database driver's error that can tell whether the database could not be reached (as opposed to refusing a
/// statement), so that the API answers 503 rather than 500.
public protocol StorageDriverError: Error {
    /// Whether the database could not be reached or the connection was lost.
    var meansUnavailable: Bool { get }
}
