import ArgumentParser
import PatenCore

/// The CLI's exit codes by kind of failure, in one place: `Paten.main` exits with them, and `paten help` and
/// docs/cli.md list them.
enum CLIExit {
    static let success: Int32 = 0
    /// Anything not listed below.
    static let failure: Int32 = 1
    /// A command line that does not parse or validate.
    static let usage: Int32 = 2
    /// No login, a token the server refuses (401), or a role that may not do this (403).
    static let authentication: Int32 = 3
    /// The question, escalation, incident or other id names nothing you may see (404).
    static let notFound: Int32 = 4
    /// The current state does not allow it: already claimed, not claimed, already resolved (409).
    static let conflict: Int32 = 5
    /// The server cannot be reached, is unavailable (503 and other 5xx), asks to slow down (429), or answered
    /// something unreadable.
    static let unavailable: Int32 = 6

    /// The table for `paten help` and the docs.
    static let table = """
          0  success
          1  any other failure
          2  usage: the command line does not parse or validate
          3  authentication: no login, a refused token (401) or a role not allowed (403)
          4  not found (404)
          5  conflict with the current state (409)
          6  server unreachable or unavailable (connection refused, 5xx, 429)
        """

    /// The exit code for a failure.
    static func status(for error: any Error) -> Int32 {
        if let error = error as? PatenError { return status(for: error.kind) }
        let code = Paten.exitCode(for: error)
        // ArgumentParser says EX_USAGE (64) for a command line that does not parse or validate.
        if code == .validationFailure { return usage }
        return code.rawValue
    }

    /// The exit code for a kind of `PatenError` (the client maps HTTP statuses to kinds).
    static func status(for kind: PatenError.Kind) -> Int32 {
        switch kind {
        case .unauthenticated, .forbidden: authentication
        case .notFound: notFound
        case .conflict: conflict
        case .unavailable, .tooManyRequests: unavailable
        case .malformed, .tooLarge, .unprocessable, .configuration: failure
        }
    }
}
