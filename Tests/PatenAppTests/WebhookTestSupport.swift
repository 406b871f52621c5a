import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PatenApp
import PatenCore
import PatenTestSupport
import PatenWebhooks

/// What a test receiver was sent, and how it answers: a script of statuses, then `steady`.
actor ReceivedHooks {
    struct Hit: Sendable {
        var id: String
        var timestamp: String
        var signature: String
        var body: [UInt8]
        var answered: Int

        /// The body as JSON.
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    }

    private(set) var hits: [Hit] = []
    private var script: [Int] = []
    private var steady = 200
    private(set) var retryAfter: String?

    /// Answers the next requests with these statuses, then with `then`.
    func answer(_ statuses: [Int], then steady: Int = 200, retryAfter: String? = nil) {
        script = statuses
        self.steady = steady
        self.retryAfter = retryAfter
    }

    func record(id: String, timestamp: String, signature: String, body: [UInt8]) -> Int {
        let status = script.isEmpty ? steady : script.removeFirst()
        hits.append(Hit(id: id, timestamp: timestamp, signature: signature, body: body, answered: status))
        return status
    }

    /// Hits answered 2xx.
    var delivered: [Hit] { hits.filter { (200..<300).contains($0.answered) } }
}

/// Runs a real HTTP receiver on a loopback port; the body gets its recorder and URL.
func withReceiver(_ body: @escaping @Sendable (ReceivedHooks, String) async throws -> Void) async throws {
    let hooks = ReceivedHooks()
    let router = Router()
    router.post("hook") { request, _ -> Response in
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        func header(_ name: String) -> String {
            request.headers.first { $0.name.canonicalName == name }?.value ?? ""
        }
        let status = await hooks.record(
            id: header("webhook-id"), timestamp: header("webhook-timestamp"), signature: header("webhook-signature"),
            body: Array(buffer.readableBytesView)
        )
        var headers = HTTPFields()
        if let retryAfter = await hooks.retryAfter { headers[.retryAfter] = retryAfter }
        return Response(status: .init(code: status), headers: headers)
    }
    var logger = Logger(label: "receiver")
    logger.logLevel = .critical
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
    try await app.test(.live) { client in
        try await body(hooks, "http://127.0.0.1:\(client.port ?? 0)/hook")
    }
}

/// A deliverer over the test environment, driven by its manual clock; its HTTP client is shut down afterwards.
func withDeliverer(
    _ env: TestEnvironment, _ body: (WebhookDeliverer) async throws -> Void
) async throws {
    let client = WebhookDeliverer.makeClient()
    var logger = Logger(label: "deliverer")
    logger.logLevel = .critical
    let deliverer = WebhookDeliverer(
        outbox: env.store, integrations: env.runtime.integrations, client: client,
        destinations: env.runtime.destinations, clock: env.clock, ratingLinks: env.runtime.desk.ratingLinks,
        logger: logger
    )
    do {
        try await body(deliverer)
    } catch {
        try await client.shutdown()
        throw error
    }
    try await client.shutdown()
}

/// Standard Webhooks headers for a body, signed at the time with the secrets.
func standardHeaders(
    id: String, body: String, secrets: [String], at time: Date, tamper: Bool = false
) throws -> [String: String] {
    let timestamp = Int64(time.timeIntervalSince1970)
    let signature = StandardWebhookSignature.header(
        id: id, timestamp: timestamp, body: Array(body.utf8), secrets: try secrets.map { try WebhookSecret($0) }
    )
    return [
        "webhook-id": id, "webhook-timestamp": String(timestamp),
        "webhook-signature": tamper ? signature.replacingOccurrences(of: "v1,", with: "v1,A") : signature,
    ]
}

/// Slack request-signing headers for a body.
func slackHeaders(body: String, secret: String, at time: Date) -> [String: String] {
    let timestamp = Int64(time.timeIntervalSince1970)
    return [
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": SlackSignature.sign(timestamp: timestamp, body: Array(body.utf8), secret: secret),
    ]
}

/// A `message.created` body.
func messageCreated(
    conversation: String, text: String, customer: String = "cust-7", name: String = "Bea Kunde",
    language: String? = nil
) throws -> String {
    var customerObject: [String: Any] = ["id": customer, "name": name]
    customerObject["language"] = language
    let object: [String: Any] = [
        "type": "message.created", "timestamp": "2026-09-21T12:00:00Z",
        "data": [
            "conversation_id": conversation, "customer": customerObject,
            "message": ["id": "ext-\(UUID().uuidString.prefix(8))", "text": text, "sent_at": "2026-09-21T12:00:00Z"],
        ] as [String: Any],
    ]
    return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}

extension TestClientProtocol {
    /// Posts a raw body to an inbound hook with the given headers.
    func hook(_ integrationId: String, headers: [String: String], body: String) async throws -> APIResponse {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in headers {
            guard let field = HTTPField.Name(name) else { throw PatenError.malformed("bad_header", name) }
            fields[field] = value
        }
        return try await execute(
            uri: "/hooks/\(integrationId)", method: .post, headers: fields, body: ByteBuffer(string: body)
        ) { response in
            let text = String(buffer: response.body)
            let parsed = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            return APIResponse(status: Int(response.status.code), body: parsed, raw: text)
        }
    }
}
