import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PatenApp
import PatenCore
import PatenTestSupport

/// A response as tests look at it: status and the parsed JSON body.
struct APIResponse {
    let status: Int
    let body: [String: Any]
    let raw: String
    var headers = HTTPFields()

    /// The error code of an error response.
    var errorCode: String? { (body["error"] as? [String: Any])?["code"] as? String }
    /// A top-level string field.
    func string(_ key: String) -> String? { body[key] as? String }
}

extension TestClientProtocol {
    /// Sends a request with an optional bearer token and JSON body (an object, or raw text).
    func call(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: [String: Any]? = nil, raw: String? = nil
    )
        async throws -> APIResponse
    {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        } else if let raw {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: raw)
        }
        return try await execute(uri: path, method: method, headers: headers, body: body) { response in
            let text = String(buffer: response.body)
            let parsed = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            return APIResponse(status: Int(response.status.code), body: parsed, raw: text, headers: response.headers)
        }
    }
}

/// Runs the body against the real router over a fresh test environment.
func withAPI(
    backend: Backend = .sqlite, _ body: @escaping @Sendable (TestEnvironment, any TestClientProtocol) async throws -> Void
) async throws {
    try await withTestEnvironment(backend: backend) { env in
        var logger = Logger(label: "paten-test")
        logger.logLevel = .critical
        let app = buildApplication(env.runtime, logger: logger)
        try await app.test(.router) { client in try await body(env, client) }
    }
}

/// A valid question submission body.
func questionBody(_ subject: String = "My eSIM will not activate", body: String = "It shows an error.") -> [String: Any] {
    ["subject": subject, "body": body, "customer": ["id": "cust-42", "name": "Ann Example"]]
}
