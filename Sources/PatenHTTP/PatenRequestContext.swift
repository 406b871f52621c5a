import Foundation
import Hummingbird
import PatenCore
import Synchronization

/// The per-request context: Hummingbird's core storage plus the authenticated account, if any.
public struct PatenRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The account the bearer token belongs to; set by `BearerAuthenticator`.
    public var identity: Helper? {
        didSet { if let identity { request.accountId = identity.id } }
    }
    /// What the access log reports of the request, filled in on the way in (shared by every copy of the context).
    public let request = RequestFacts()

    /// Creates a context for a request.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
    }

    /// Every JSON response: snake_case keys, RFC 3339 UTC times with milliseconds.
    public var responseEncoder: JSONEncoder { APICoding.encoder }

    /// The authenticated account, or a 401 when there is none.
    public func requireIdentity() throws -> Helper {
        guard let identity else { throw PatenError.unauthenticated }
        return identity
    }

    /// The authenticated account if its role is one of the given ones; 401 or 403 otherwise.
    public func require(_ roles: Role...) throws -> Helper {
        let helper = try requireIdentity()
        guard roles.contains(helper.role) else {
            throw PatenError.forbidden(
                "forbidden_role",
                "This needs the role \(roles.map(\.rawValue).joined(separator: " or ")); your token is a \(helper.role.rawValue)'s."
            )
        }
        return helper
    }
}

/// What the access log reports of a request that inner handlers learn: the account it was made by.
public final class RequestFacts: Sendable {
    private let account = Mutex<String?>(nil)

    /// Creates empty facts.
    public init() {}

    /// The account the request was authenticated as, if any.
    public var accountId: String? {
        get { account.withLock { $0 } }
        set { account.withLock { $0 = newValue } }
    }
}
