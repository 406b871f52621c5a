import Foundation
import Hummingbird
import Logging
import PatenCore

/// Reads `Authorization: Bearer <token>` and puts the token's account into the context. Routes decide whether
/// they need one (`context.require(...)`), so a missing or unknown token fails there with 401.
public struct BearerAuthenticator: RouterMiddleware {
    public typealias Context = PatenRequestContext
    let directory: HelperDirectory

    /// Creates the middleware over the helper directory.
    public init(directory: HelperDirectory) {
        self.directory = directory
    }

    public func handle(
        _ request: Request, context: PatenRequestContext,
        next: (Request, PatenRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer",
                let helper = try await directory.authenticate(secret: String(parts[1]).trimmingCharacters(in: .whitespaces))
            else { throw PatenError.unauthenticated }
            context.identity = helper
        }
        return try await next(request, context)
    }
}
