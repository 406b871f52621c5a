import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PatenCore

/// The access log and request ids: every request gets an id (the client's `X-Request-Id` when it is a sensible one,
/// else a new one), returned in `X-Request-Id`, put in every log line of the request and in 5xx bodies. When the
/// request ends, one `info` line says what happened: method, route pattern (never the raw path, which holds ids and
/// rating tokens), status, duration, bytes and the account. Add it first, before everything else.
public struct RequestLogMiddleware: RouterMiddleware {
    public typealias Context = PatenRequestContext
    /// The logger metadata key of the request id.
    public static let requestIdKey = "request_id"

    let logger: Logger

    /// Creates the middleware; the access lines go to `logger`.
    public init(logger: Logger) {
        self.logger = logger
    }

    /// A client's request id, if it is 1 to 128 characters of letters, digits, `-`, `_`, `.` and `:` (anything else
    /// could forge log lines or carry a secret into them).
    static func acceptable(_ text: String?) -> String? {
        guard let text, (1...128).contains(text.utf8.count),
            text.utf8.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2D || byte == 0x5F || byte == 0x2E || byte == 0x3A
            })
        else { return nil }
        return text
    }

    /// A new request id: 16 random bytes in hex.
    static func newId() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    public func handle(
        _ request: Request, context: PatenRequestContext,
        next: (Request, PatenRequestContext) async throws -> Response
    ) async throws -> Response {
        let id = Self.acceptable(request.headers[.xRequestId]) ?? Self.newId()
        var context = context
        context.logger[metadataKey: Self.requestIdKey] = .string(id)
        let started = ContinuousClock.now
        // The route is known before the middleware runs for a matched path; anything else is reported as unmatched.
        let route = context.endpointPath ?? "unmatched"
        do {
            var response = try await next(request, context)
            response.headers[.xRequestId] = id
            log(request, route: route, status: response.status.code, bytes: response.body.contentLength, since: started, context)
            return response
        } catch {
            // Only what the error middleware inside did not turn into a response reaches here (none should).
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            log(request, route: route, status: status, bytes: nil, since: started, context)
            throw error
        }
    }

    private func log(
        _ request: Request, route: String, status: Int, bytes: Int?, since started: ContinuousClock.Instant,
        _ context: PatenRequestContext
    ) {
        let elapsed = ContinuousClock.now - started
        var metadata: Logger.Metadata = [
            Self.requestIdKey: .string(context.logger[metadataKey: Self.requestIdKey].map { "\($0)" } ?? ""),
            "method": .string(request.method.rawValue), "route": .string(route), "status": .stringConvertible(status),
            "duration_ms": .string(
                String(format: "%.2f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)),
        ]
        if let bytes { metadata["bytes"] = .stringConvertible(bytes) }
        if let account = context.request.accountId { metadata["account"] = .string(account) }
        logger.info("request", metadata: metadata)
    }
}

extension HTTPField.Name {
    /// The request id a client sends and every response carries.
    public static var xRequestId: Self { Self("X-Request-Id") ?? .via }
}
