import Crypto
import Foundation
import OpenAPIRuntime
import PatenApp
import PatenClient
import PatenCore
import PatenTestSupport
import Testing

@testable import PatenCLI
@testable import paten

@Suite("The generated PatenClient against a running server")
struct GeneratedClientTests {
    /// A client for the live test server, signed with the token.
    static func client(port: Int, token: String?, throwingErrors: Bool = false) throws -> Client {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)"))
        return PatenAPI.client(serverURL: url, token: token, userAgent: PatenVersion.userAgent, throwingErrors: throwingErrors)
    }

    @Test("The generated code matches docs/openapi.yaml and its config (run scripts/openapi-generate.sh otherwise)")
    func generatedCodeIsCurrent() throws {
        let recorded = try String(
            contentsOf: repositoryRoot.appendingPathComponent("Sources/PatenClient/Generated/openapi.sha256"), encoding: .utf8
        )
        for path in ["docs/openapi.yaml", "Sources/PatenClient/openapi-generator-config.yaml"] {
            let data = try Data(contentsOf: repositoryRoot.appendingPathComponent(path))
            let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            #expect(
                recorded.contains("\(digest)  \(path)"),
                "\(path) changed since the client was generated: run scripts/openapi-generate.sh and commit the result"
            )
        }
    }

    @Test("An admin creates accounts, an integration submits, a volunteer lists, claims and replies", arguments: Backend.available)
    func questionRoundTrip(backend: Backend) async throws {
        try await withLiveServer(backend: backend) { env, port in
            let admin = try Self.client(port: port, token: try await env.account("root", .admin).token)

            // Given a volunteer and an integration made through the API.
            let volunteer = try await admin.createHelper(
                body: .json(.init(handle: "vera", displayName: "Vera", role: .volunteer, skills: ["roaming"], languages: ["en"]))
            ).created.body.json
            #expect(volunteer.handle == "vera" && volunteer.role == .volunteer && volunteer.skills == ["roaming"])
            let volunteerToken = try await admin.issueToken(path: .init(id: volunteer.id), body: .json(.init(label: "test")))
                .created.body.json
            #expect(volunteerToken.record.helperId == volunteer.id && volunteerToken.record.label == "test")
            let bridge = try await admin.createHelper(body: .json(.init(handle: "bridge", role: .integration))).created.body.json
            let bridgeToken = try await admin.issueToken(path: .init(id: bridge.id)).created.body.json.token

            // When the integration submits a question and the volunteer works it.
            let integration = try Self.client(port: port, token: bridgeToken)
            let question = try await integration.submitQuestion(
                body: .json(
                    .init(
                        subject: "Roaming in Spain does not work", body: "My phone shows no network abroad.",
                        customer: .init(id: "cust-1", name: "Ann Example")
                    )
                )
            ).created.body.json
            #expect(question.topic == "roaming" && question.tier == .volunteer && question.state == .open)
            #expect(question.channel == bridge.id)

            let vera = try Self.client(port: port, token: volunteerToken.token)
            let queue = try await vera.getQueue().ok.body.json.questions
            #expect(queue.map(\.id).contains(question.id))
            let claimed = try await vera.claimQuestion(path: .init(id: question.id)).ok.body.json
            #expect(claimed.state == .claimed)
            let posted = try await vera.replyToQuestion(
                path: .init(id: question.id), body: .json(.init(body: "Turn on data roaming in the settings."))
            ).created.body.json
            #expect(posted.message.body == "Turn on data roaming in the settings.")

            // Then the question shows the reply, and the admin sees both accounts.
            let detail = try await vera.getQuestion(path: .init(id: question.id)).ok.body.json
            #expect(detail.messages.map(\.body).contains("Turn on data roaming in the settings."))
            let helpers = try await admin.listHelpers().ok.body.json.helpers.map(\.handle)
            #expect(Set(helpers).isSuperset(of: ["root", "vera", "bridge"]))
        }
    }

    @Test("A refusal decodes as the API's error body: status, code and message", arguments: Backend.available)
    func errorBodies(backend: Backend) async throws {
        try await withLiveServer(backend: backend) { env, port in
            let staff = try await env.account("sam", .staff)
            let question = try await env.submit("Roaming in Spain does not work", by: staff.helper)
            let sam = try Self.client(port: port, token: staff.token)

            let missing = try await sam.getQuestion(path: .init(id: "q_doesnotexist"))
            guard case .notFound(let notFound) = missing else {
                Issue.record("expected 404, got \(missing)")
                return
            }
            #expect(try notFound.body.json.error.code == "question_not_found")
            #expect(try notFound.body.json.error.message == "No question with id 'q_doesnotexist' exists.")

            let release = try await sam.releaseQuestion(path: .init(id: question.id))
            guard case .conflict(let conflict) = release else {
                Issue.record("expected 409, got \(release)")
                return
            }
            #expect(try conflict.body.json.error.code == "not_claimed")

            // A volunteer may not create accounts: with throwingErrors the refusal is thrown as PatenAPIError.
            let vera = try Self.client(port: port, token: try await env.account("vera", .volunteer).token, throwingErrors: true)
            let thrown = await #expect(throws: ClientError.self) {
                _ = try await vera.createHelper(body: .json(.init(handle: "mallory", role: .admin)))
            }
            let refusal = try #require(thrown?.underlyingError as? PatenAPIError)
            #expect(refusal.status == 403 && refusal.code == "forbidden_role" && refusal.message.hasPrefix("This needs the role admin"))
        }
    }

    @Test("The escalation stream decodes through OpenAPIRuntime's Server-Sent Events decoder", arguments: Backend.available)
    func escalationStream(backend: Backend) async throws {
        try await withLiveServer(backend: backend) { env, port in
            let staff = try await env.account("lead", .staff)
            let question = try await env.submit("Roaming in Spain does not work", by: staff.helper)
            let lead = try Self.client(port: port, token: staff.token)
            let escalation = try await lead.escalateQuestion(
                path: .init(id: question.id), body: .json(.init(note: "The customer needs a refund.", level: ._2))
            ).created.body.json

            // Resuming after event 0 replays the escalation raised before the stream opened.
            let events = try await lead.escalationEvents(after: 0)
            var received: Client.EscalationEvent?
            for try await event in events where event.data?.questionId == question.id {
                received = event
                break
            }
            let event = try #require(received)
            #expect(event.event == "escalation.created")
            #expect(event.data?.id == escalation.id && event.data?.reason == .manual && event.data?.level == ._2)
            #expect(event.data?.note == "The customer needs a refund.")
            #expect(event.id.flatMap(Int64.init).map { $0 > 0 } == true)
        }
    }

    @Test("The incidents commands work through the generated client: list, show, update, unlink, link, resolve")
    func incidentCommands() async throws {
        try await withLiveServer { env, port in
            let staff = try await env.account("sam", .staff)
            var burst: [String] = []
            for (index, subject) in [
                "No mobile data since this morning", "Mobile data not working since this morning",
                "Mobile data stopped working this morning", "No mobile data at all since this morning",
                "Data connection not working since this morning, no mobile internet",
            ].enumerated() {
                let customer = Customer(id: "c\(index)", name: "Kim")
                burst.append(try await env.submit(subject, customer: customer, by: staff.helper).id)
            }
            try await withConfigHome { home in
                let login = ["--url", "http://127.0.0.1:\(port)", "--token", staff.token]
                func run(_ arguments: [String]) async throws -> BinaryRun {
                    let result = try await runBinary(["incidents"] + arguments + login, environment: home)
                    #expect(result.status == 0, "\(arguments): \(result.stderr)")
                    return result
                }
                let list = try await run(["list"])
                let incident = try #require(list.stdout.split(separator: "\n").dropFirst().first?.split(separator: " ").first)
                #expect(incident.hasPrefix("inc_") && list.stdout.contains("open"), "\(list.stdout)")

                let show = try await run(["show", String(incident)])
                #expect(show.stdout.contains("questions: 5 (5 open)") && show.stdout.contains("No updates yet."), "\(show.stdout)")
                let update = try await run(["update", String(incident), "We are on it."])
                #expect(update.stdout == "posted an update to \(incident) (open; 5 questions, 5 open)\n")
                #expect(try await run(["show", String(incident)]).stdout.contains("  We are on it."))
                let unlink = try await run(["unlink", String(incident), burst[0]])
                #expect(unlink.stdout.hasPrefix("unlinked \(burst[0]) from \(incident) (open; 4 questions"), "\(unlink.stdout)")
                #expect(try await run(["link", String(incident), burst[0]]).stdout.contains("5 questions"))
                let resolve = try await run(["resolve", String(incident), "Fixed.", "--resolve-questions", "--json"])
                let resolved = try JSONSerialization.jsonObject(with: Data(resolve.stdout.utf8)) as? [String: Any]
                #expect(resolved?["state"] as? String == "resolved" && resolved?["open_questions"] as? Int == 0, "\(resolve.stdout)")

                let missing = try await runBinary(["incidents", "show", "inc_nothing"] + login, environment: home)
                #expect(missing.status == CLIExit.notFound && missing.stderr.hasPrefix("paten: No incident"), "\(missing.stderr)")
            }
        }
    }
}
