import Hummingbird

/// Tells a wrong method from a wrong path: a request whose path names a route but whose method that route does not
/// serve gets 405 `method_not_allowed` with an `Allow` header listing the methods it does serve (RFC 9110 §15.5.6),
/// instead of the router's 404.
///
/// Add it to the router after every route: Hummingbird gives middleware added last only to the not-found responder,
/// so this costs nothing on requests that match a route.
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    private let routes: [(path: RouterPath, method: HTTPRequest.Method)]

    /// Creates the middleware from the router's routes (`Router.routes`).
    public init(routes: [Router<Context>.RouteDescription]) {
        self.routes = routes.map { ($0.path, $0.method) }
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = allowedMethods(for: request.uri.path)
            guard !allowed.isEmpty else { throw error }
            var response = PatenErrorMiddleware<Context>.response(
                status: .methodNotAllowed, code: "method_not_allowed",
                message: "\(request.method) is not allowed on \(request.uri.path); use \(allowed.joined(separator: ", ")).",
            )
            response.headers[.allow] = allowed.joined(separator: ", ")
            return response
        }
    }

    /// The methods served on a path, in a fixed order; empty when no route has that path.
    func allowedMethods(for path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let served = Set(
            routes.filter { route in
                route.path.components.count == segments.count
                    && zip(route.path.components, segments).allSatisfy { component, segment in component ~= segment }
            }
            .map(\.method.rawValue)
        )
        return ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].filter(served.contains)
    }
}
