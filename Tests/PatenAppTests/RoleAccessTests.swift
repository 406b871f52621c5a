import Foundation
import Hummingbird
import HummingbirdTesting
import PatenCore
import PatenTestSupport
import Testing

@Suite("Who may call which route")
struct RoleAccessTests {
    /// One route, how to make its path (fresh state per call), and the status each caller gets.
    struct Case: Sendable, CustomStringConvertible {
        let method: HTTPRequest.Method
        let template: String
        let body: [String: String]?
        let expected: [Role: Int]
        var description: String { "\(method) \(template)" }
    }

    static let everyone = Dictionary(uniqueKeysWithValues: Role.allCases.map { ($0, 200) })
    static func adminOnly(_ success: Int) -> [Role: Int] {
        [.admin: success, .staff: 403, .volunteer: 403, .integration: 403]
    }

    static let cases: [Case] = [
        Case(
            method: .post, template: "/v1/questions", body: nil, expected: [.integration: 201, .staff: 201, .admin: 201, .volunteer: 403]),
        Case(method: .get, template: "/v1/questions", body: nil, expected: everyone),
        Case(
            method: .get, template: "/v1/questions/{open}", body: nil,
            expected: [.volunteer: 200, .staff: 200, .admin: 200, .integration: 404]),
        Case(method: .get, template: "/v1/queue", body: nil, expected: [.volunteer: 200, .staff: 200, .admin: 200, .integration: 403]),
        Case(
            method: .post, template: "/v1/questions/{open}/claim", body: nil,
            expected: [.volunteer: 200, .staff: 200, .admin: 200, .integration: 403]),
        Case(
            method: .post, template: "/v1/questions/{held}/release", body: nil,
            expected: [.volunteer: 403, .staff: 200, .admin: 200, .integration: 404]),
        Case(
            method: .post, template: "/v1/questions/{held}/resolve", body: ["note": "Settled by phone"],
            expected: [.volunteer: 409, .staff: 200, .admin: 200, .integration: 404]),
        Case(
            method: .post, template: "/v1/questions/{resolved}/reopen", body: nil,
            expected: [.volunteer: 403, .staff: 200, .admin: 200, .integration: 404]),
        Case(
            method: .post, template: "/v1/questions/{open}/replies", body: ["body": "Try restarting"],
            expected: [.volunteer: 409, .staff: 201, .admin: 201, .integration: 403]),
        Case(
            method: .post, template: "/v1/questions/{bridged}/messages", body: ["body": "Any news?"],
            expected: [.volunteer: 403, .staff: 403, .admin: 403, .integration: 201]),
        Case(method: .post, template: "/v1/helpers", body: nil, expected: adminOnly(201)),
        Case(method: .get, template: "/v1/helpers", body: nil, expected: adminOnly(200)),
        Case(method: .get, template: "/v1/helpers/{helper}", body: nil, expected: adminOnly(200)),
        Case(method: .patch, template: "/v1/helpers/{helper}", body: ["display_name": "Renamed"], expected: adminOnly(200)),
        Case(method: .post, template: "/v1/helpers/{helper}/tokens", body: nil, expected: adminOnly(201)),
        Case(method: .get, template: "/v1/me", body: nil, expected: everyone),
        Case(method: .put, template: "/v1/me/presence", body: ["presence": "away"], expected: everyone),
        Case(method: .get, template: "/v1/tokens", body: nil, expected: everyone),
        Case(
            method: .delete, template: "/v1/tokens/{token}", body: nil,
            expected: [.admin: 200, .staff: 404, .volunteer: 404, .integration: 404]),
    ]

    @Test("Each role gets the documented status, and no token gets 401", arguments: cases)
    func access(_ route: Case) async throws {
        try await withAPI { env, client in
            let staff = try await env.account("lead", .staff).helper
            let bridge = try await env.account("bridge", .integration)
            var tokens: [Role: String] = [:]
            for role in Role.allCases {
                tokens[role] = role == .integration ? bridge.token : try await env.account("caller-\(role.rawValue)", role).token
            }
            var counter = 0
            func path() async throws -> String {
                counter += 1
                var path = route.template
                if path.contains("{open}") {
                    path = path.replacingOccurrences(of: "{open}", with: try await env.submit("Data \(counter)", by: staff).id)
                }
                if path.contains("{held}") {
                    let question = try await env.submit("Held \(counter)", by: staff)
                    _ = try await env.desk.claim(question.id, by: staff)
                    path = path.replacingOccurrences(of: "{held}", with: question.id)
                }
                if path.contains("{resolved}") {
                    let question = try await env.submit("Done \(counter)", by: staff)
                    _ = try await env.desk.resolve(question.id, note: "Duplicate", by: staff)
                    path = path.replacingOccurrences(of: "{resolved}", with: question.id)
                }
                if path.contains("{bridged}") {
                    path = path.replacingOccurrences(of: "{bridged}", with: try await env.submit("Chat \(counter)", by: bridge.helper).id)
                }
                if path.contains("{helper}") {
                    path = path.replacingOccurrences(of: "{helper}", with: try await env.account("target\(counter)", .volunteer).helper.id)
                }
                if path.contains("{token}") {
                    let token = try await env.directoryService.issueToken(for: staff.id)
                    path = path.replacingOccurrences(of: "{token}", with: token.record.id)
                }
                return path
            }
            func body() -> [String: Any]? {
                if let body = route.body { return body }
                if route.template == "/v1/questions" && route.method == .post { return questionBody() }
                if route.template == "/v1/helpers" { return ["handle": "new\(counter)", "role": "volunteer"] }
                return nil
            }

            let anonymous = try await client.call(route.method, try await path(), json: body())
            #expect(anonymous.status == 401, "\(route) without a token")
            #expect(anonymous.errorCode == "unauthenticated")
            for role in Role.allCases {
                let response = try await client.call(route.method, try await path(), token: tokens[role], json: body())
                #expect(response.status == route.expected[role], "\(route) as \(role.rawValue): \(response.raw)")
            }
        }
    }
}
