import Foundation
import Hummingbird
import HummingbirdTesting
import PatenApp
import PatenHTTP
import PatenTestSupport
import Testing

@Suite("The OpenAPI document")
struct OpenAPITests {
    /// Every (METHOD path) pair the document describes, read from its `paths:` section.
    static func documentedRoutes(_ yaml: String) -> Set<String> {
        var routes = Set<String>()
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("components:") { break }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "post", "put", "patch", "delete"].contains(String(method)) {
                    routes.insert("\(method.uppercased()) \(path)")
                }
            }
        }
        return routes
    }

    @Test("Describes exactly the routes the router serves", arguments: Backend.available)
    func matchesRouter(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let router = buildRouter(env.runtime)
            let served = Set(
                router.routes.map { route in
                    let path = route.path.description
                    return "\(route.method.rawValue) \(path.hasPrefix("/") ? path : "/" + path)"
                }
            )
            // The console's pages are HTML for people, not API: docs/console.md lists them (the next test).
            let api = served.filter { !$0.contains(" /console") }
            let console = served.subtracting(api)
            let guide = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/console.md"), encoding: .utf8)
            for route in console.sorted() {
                #expect(guide.contains("`\(route)`"), "docs/console.md does not list \(route)")
            }
            let documented = Self.documentedRoutes(OpenAPIDocument.yaml)
            #expect(api.count >= 19)
            #expect(api.subtracting(documented).isEmpty, "served but not documented: \(api.subtracting(documented).sorted())")
            #expect(documented.subtracting(api).isEmpty, "documented but not served: \(documented.subtracting(api).sorted())")
        }
    }

    @Test("The served document is docs/openapi.yaml", arguments: Backend.available)
    func servedDocument(backend: Backend) async throws {
        let file = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        #expect(
            OpenAPIDocument.yaml == file.trimmingCharacters(in: .newlines),
            "docs/openapi.yaml differs from the embedded copy; run scripts/embed-resources.sh"
        )
        try await withAPI(backend: backend) { env, client in
            let response = try await client.call(.get, "/openapi.yaml")
            #expect(response.status == 200)
            #expect(response.raw.hasPrefix("openapi: 3.1.0"))
            // The served copy names this deployment's topics and languages where the file has markers.
            let topics = env.runtime.policy.topics.map { "\"\($0.name)\"" }.joined(separator: ", ")
            let languages = env.runtime.policy.languages.map { "\"\($0)\"" }.joined(separator: ", ")
            #expect(response.raw.contains("      enum: [\(topics)]\n"))
            #expect(response.raw.contains("      enum: [\(languages)]\n"))
            #expect(!response.raw.contains("x-paten-policy"))
            #expect(file.contains("x-paten-policy: topics") && file.contains("x-paten-policy: languages"))
        }
    }

    @Test("A known path asked with another method is 405 with Allow", arguments: Backend.available)
    func methodNotAllowed(backend: Backend) async throws {
        try await withAPI(backend: backend) { _, client in
            let trace = try await client.call(.trace, "/v1/questions")
            #expect(trace.status == 405)
            #expect(trace.errorCode == "method_not_allowed")
            #expect(trace.headers[.allow] == "GET, POST")
            let delete = try await client.call(.delete, "/v1/questions/q_anything/claim")
            #expect(delete.status == 405)
            #expect(delete.headers[.allow] == "POST")
            let health = try await client.call(.post, "/healthz")
            #expect(health.headers[.allow] == "GET")
            let unknown = try await client.call(.get, "/v1/nothing-here")
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "route_not_found")
        }
    }

    @Test("Health and readiness need no token", arguments: Backend.available)
    func operations(backend: Backend) async throws {
        try await withAPI(backend: backend) { _, client in
            let health = try await client.call(.get, "/healthz")
            let ready = try await client.call(.get, "/readyz")
            #expect(health.string("status") == "ok")
            #expect(ready.string("status") == "ready")
        }
    }
}
