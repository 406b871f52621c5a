import Foundation
import Hummingbird
import HummingbirdTesting
import PatenCore
import PatenTestSupport
import Testing

/// A browser as far as the server can tell: it keeps cookies and sends forms. (The real browser, with the script
/// and the live feed, is scripts/browser.sh.)
final class CookieBrowser: @unchecked Sendable {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    struct Page {
        let status: Int
        let headers: HTTPFields
        let html: String

        var location: String? { headers[.location] }
        /// The value of the first hidden `csrf` field.
        var csrf: String? {
            guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
            return String(html[range.upperBound...].prefix { $0 != "\"" })
        }
        var setCookies: [String] { headers[values: .setCookie] }
    }

    func get(_ path: String, headers extra: HTTPFields = HTTPFields()) async throws -> Page {
        try await send(.get, path, body: nil, headers: extra)
    }

    func post(_ path: String, form: [String: String]) async throws -> Page {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let body: String = form.sorted { $0.key < $1.key }.map { (key: String, value: String) -> String in
            key + "=" + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
        }.joined(separator: "&")
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await send(.post, path, body: body, headers: headers)
    }

    private func send(
        _ method: HTTPRequest.Method, _ path: String, body: String?, headers extra: HTTPFields
    ) async throws
        -> Page
    {
        var headers = extra
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        let page = try await client.execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            Page(status: Int(response.status.code), headers: response.headers, html: String(buffer: response.body))
        }
        for line in page.setCookies {
            let pair = line.split(separator: ";")[0].split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            if line.contains("Max-Age=0") { cookies[pair[0]] = nil } else { cookies[pair[0]] = pair[1] }
        }
        return page
    }

    /// Signs in with the token through the form; returns the response to the form's POST.
    @discardableResult
    func signIn(_ token: String) async throws -> Page {
        let form = try await get("/console/login")
        return try await post("/console/login", form: ["csrf": form.csrf ?? "", "token": token])
    }
}

@Suite("Console and rating page")
struct ConsoleTests {
    @Test("Sign-in: staff in, volunteers and bad tokens out, sign-out ends the session", arguments: Backend.available)
    func signInAndOut(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("sam", .staff)
            let volunteer = try await env.account("vera", .volunteer)
            let browser = CookieBrowser(client)

            let away = try await browser.get("/console")
            #expect(away.status == 303 && away.location == "/console/login")
            let form = try await browser.get("/console/login")
            #expect(form.status == 200)
            #expect(form.html.contains(#"id="token""#))
            #expect(form.setCookies.contains { $0.hasPrefix("paten_login=") && $0.contains("SameSite=Strict") })

            // A sign-in form posted from elsewhere (no matching login cookie) is refused.
            let forged = CookieBrowser(client)
            let refused = try await forged.post("/console/login", form: ["csrf": "made-up", "token": staff.token])
            #expect(refused.status == 403)
            #expect(forged.cookies["paten_session"] == nil)

            let asVolunteer = try await browser.signIn(volunteer.token)
            #expect(asVolunteer.status == 403)
            #expect(asVolunteer.html.contains("console_staff_only") || asVolunteer.html.contains("for staff and admins"))
            #expect(browser.cookies["paten_session"] == nil)
            let wrong = try await browser.signIn("pat_not-a-token")
            #expect(wrong.status == 401)
            #expect(wrong.html.contains(#"id="login-error""#))

            let signedIn = try await browser.signIn(staff.token)
            #expect(signedIn.status == 303 && signedIn.location == "/console")
            let cookie = try #require(signedIn.setCookies.first { $0.hasPrefix("paten_session=") })
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] { #expect(cookie.contains(attribute), "\(cookie)") }
            #expect(!cookie.contains("Secure"), "served over plain HTTP here")
            let value = try #require(browser.cookies["paten_session"])
            // The cookie's value is never stored, only its hash.
            #expect(try await env.store.count("SELECT COUNT(*) FROM console_sessions WHERE id_hash = ?", [value]) == 0)
            #expect(try await env.store.count("SELECT COUNT(*) FROM console_sessions") == 1)

            let overview = try await browser.get("/console")
            #expect(overview.status == 200)
            let policy = try #require(overview.headers[.init("Content-Security-Policy")!])
            #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"))
            #expect(overview.headers[.init("X-Frame-Options")!] == "DENY")
            #expect(overview.html.contains("sam · staff"))

            // Sign-out needs the form's CSRF value too.
            let csrf = try #require(overview.csrf)
            #expect(try await browser.post("/console/logout", form: [:]).status == 403)
            #expect(try await browser.get("/console").status == 200)
            let out = try await browser.post("/console/logout", form: ["csrf": csrf])
            #expect(out.status == 303 && out.location == "/console/login")
            #expect(try await browser.get("/console").status == 303)
            // The old cookie, replayed, is dead: its session is gone from the database.
            browser.cookies["paten_session"] = value
            #expect(try await browser.get("/console").location == "/console/login")
            #expect(try await env.store.count("SELECT COUNT(*) FROM console_sessions") == 0)
        }
    }

    @Test("A session ends as soon as its token is revoked", arguments: Backend.available)
    func sessionEndsWithToken(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let admin = try await env.account("ada", .admin)
            let staff = try await env.account("sam", .staff)
            let browser = CookieBrowser(client)
            try await browser.signIn(staff.token)
            #expect(try await browser.get("/console/escalations").status == 200)
            let tokens = try await client.call(.get, "/v1/tokens?helper_id=\(staff.helper.id)", token: admin.token)
            let tokenId = try #require((tokens.body["tokens"] as? [[String: Any]])?.first?["id"] as? String, "\(tokens.raw)")
            #expect(try await client.call(.delete, "/v1/tokens/\(tokenId)", token: admin.token).status == 200)
            let after = try await browser.get("/console/escalations")
            #expect(after.status == 303 && after.location == "/console/login")
        }
    }

    @Test("Forms without the session's CSRF value, and redirects out of the console, are refused", arguments: Backend.available)
    func csrfAndRedirects(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("sam", .staff)
            let other = try await env.account("otto", .staff)
            let question = try await env.submit("Roaming does not work", by: staff.helper)
            let escalation = try await client.call(
                .post, "/v1/questions/\(question.id)/escalate", token: staff.token, json: ["note": "customer abroad"]
            )
            let id = try #require(escalation.string("id"), "\(escalation.raw)")
            let browser = CookieBrowser(client)
            try await browser.signIn(staff.token)
            let page = try await browser.get("/console/escalations")
            #expect(page.html.contains(#"data-id="\#(id)""#))
            let csrf = try #require(page.csrf)

            // No value, a wrong one, and another session's value: refused, and nothing changes.
            let second = CookieBrowser(client)
            try await second.signIn(other.token)
            let foreign = try #require(try await second.get("/console").csrf)
            let wrong = (csrf.first == "x" ? "y" : "x") + csrf.dropFirst()  // always one character off
            for form in [["back": "/console"], ["csrf": wrong], ["csrf": foreign]] {
                let refused = try await browser.post("/console/escalations/\(id)/acknowledge", form: form)
                #expect(refused.status == 403, "\(form)")
                #expect(refused.html.contains("CSRF"))
            }
            let unchanged = try await client.call(.get, "/v1/escalations?state=open", token: staff.token)
            #expect(unchanged.raw.contains(id))

            // The page to come back to must be inside the console.
            for back in ["https://evil.example/", "//evil.example/console", "/console\\@evil", "/elsewhere"] {
                let acknowledged = try await browser.post(
                    "/console/escalations/\(id)/acknowledge", form: ["csrf": csrf, "back": back]
                )
                #expect(acknowledged.status == 303 || acknowledged.status == 409, "\(acknowledged.html)")
                if let location = acknowledged.location { #expect(location.hasPrefix("/console/"), "\(location)") }
            }
            let done = try await browser.post("/console/escalations/\(id)/resolve", form: ["csrf": csrf, "back": "/console"])
            #expect(done.location == "/console?done=resolved")
            let flashed = try await browser.get(try #require(done.location))
            #expect(flashed.html.contains("Escalation resolved."))
            // Resolving again is refused in words, with the API's status.
            let again = try await browser.post("/console/escalations/\(id)/resolve", form: ["csrf": csrf])
            #expect(again.status == 409)
            #expect(again.headers[.contentType]?.hasPrefix("text/html") == true)
        }
    }

    @Test("Customer text is escaped on every page", arguments: Backend.available)
    func escapesCustomerText(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("sam", .staff)
            let attack = #"<script>alert(1)</script><img src=x onerror=alert(2)>"#
            let question = try await env.submit(
                attack, body: "</textarea><script>alert(3)</script>",
                customer: Customer(id: "c1", name: #""><svg onload=alert(4)>"#), by: staff.helper
            )
            _ = try await client.call(.post, "/v1/questions/\(question.id)/escalate", token: staff.token, json: ["note": attack])
            let browser = CookieBrowser(client)
            try await browser.signIn(staff.token)
            for path in ["/console", "/console/escalations", "/console/questions/\(question.id)"] {
                let page = try await browser.get(path)
                #expect(page.status == 200, "\(path)")
                #expect(!page.html.contains("<script>alert"), "\(path)")
                #expect(!page.html.contains("<img src=x"), "\(path)")
                #expect(!page.html.contains("<svg onload"), "\(path)")
                #expect(page.html.contains("&lt;script&gt;alert(1)"), "\(path)")
            }
        }
    }

    @Test("Every console page answers staff, and a bad filter or an unknown id is a page in words", arguments: Backend.available)
    func pages(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("sam", .staff)
            _ = try await env.account("vera", .volunteer)
            let question = try await env.submit("eSIM not activating", by: staff.helper)
            let browser = CookieBrowser(client)
            try await browser.signIn(staff.token)
            for path in [
                "/console", "/console/escalations?state=any", "/console/escalations?state=open&reason=manual&level=1",
                "/console/questions/\(question.id)", "/console/incidents", "/console/incidents?state=all",
                "/console/volunteers", "/console/metrics",
            ] {
                let page = try await browser.get(path)
                #expect(page.status == 200, "\(path): \(page.html.prefix(300))")
                #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            }
            // Found by review: absent values rendered as "nil" and opened their sections.
            let login = try await CookieBrowser(client).get("/console/login")
            #expect(!login.html.contains("login-error") && !login.html.contains("nil"))
            let unheld = try await browser.get("/console/questions/\(question.id)")
            #expect(!unheld.html.contains("Held by") && !unheld.html.contains("/console/incidents/nil"))
            #expect(!unheld.html.contains(">nil<") && !unheld.html.contains("by nil"))
            let overview = try await browser.get("/console")
            #expect(overview.html.contains(#"data-count="waiting">1<"#))
            #expect(overview.html.contains(#"id="chart-first-response""#))
            env.clock.advance(by: 60)  // the period ends now, exclusive
            let export = try await browser.get("/console/metrics/export?format=csv")
            #expect(export.status == 200 && export.html.contains(question.id))
            let bad = try await browser.get("/console/escalations?state=bogus")
            #expect(bad.status == 400 && bad.headers[.contentType]?.hasPrefix("text/html") == true)
            let missing = try await browser.get("/console/questions/q_missing")
            #expect(missing.status == 404 && missing.html.contains("not_found"))
            // Assets are served from the binary.
            #expect(try await browser.get("/console/assets/console.js").html.contains("EventSource"))
            #expect(try await browser.get("/console/assets/console.css").status == 200)
        }
    }

    @Test("Staff post an incident update from the console", arguments: Backend.available)
    func incidentUpdate(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("sam", .staff)
            for (index, subject) in IncidentAPITests.outage.enumerated() {
                _ = try await IncidentAPITests.submit(client, subject, token: staff.token, customer: "c\(index)")
            }
            let incidentId = try #require(try await IncidentAPITests.incidents(client, token: staff.token).first?["id"] as? String)
            let browser = CookieBrowser(client)
            try await browser.signIn(staff.token)
            let page = try await browser.get("/console/incidents/\(incidentId)")
            #expect(page.status == 200 && page.html.contains(#"id="post-update""#))
            let posted = try await browser.post(
                "/console/incidents/\(incidentId)/updates",
                form: ["csrf": try #require(page.csrf), "body": "Engineers are on it; next update at 14:00."]
            )
            #expect(posted.location == "/console/incidents/\(incidentId)?done=update_posted")
            let shown = try await browser.get(try #require(posted.location))
            #expect(shown.html.contains("Engineers are on it; next update at 14:00."))
            let empty = try await browser.post(
                "/console/incidents/\(incidentId)/updates", form: ["csrf": try #require(page.csrf), "body": " "]
            )
            #expect(empty.status == 422 && empty.html.contains("body_required"))
        }
    }

    /// Resolves a question with a helper's answer and returns its rating link's path.
    static func ratedQuestionPath(
        _ env: TestEnvironment, _ client: any TestClientProtocol, staff: (helper: Helper, token: String), language: String?
    ) async throws -> (path: String, questionId: String) {
        var body = questionBody("Voicemail PIN forgotten", body: "How do I reset it?")
        body["language"] = language
        let submitted = try await client.call(.post, "/v1/questions", token: staff.token, json: body)
        let id = try #require(submitted.string("id"), "\(submitted.raw)")
        #expect(try await client.call(.post, "/v1/questions/\(id)/replies", token: staff.token, json: ["body": "Dial 3311."]).status == 201)
        #expect(try await client.call(.post, "/v1/questions/\(id)/resolve", token: staff.token).status == 200)
        let detail = try await client.call(.get, "/v1/questions/\(id)", token: staff.token)
        let url = try #require(detail.string("rating_url"), "\(detail.raw)")
        return (String(url.dropFirst(env.runtime.configuration.externalURL.count)), id)
    }

    @Test("The rating link opens a form that records nothing; the form rates once; refusals are words", arguments: Backend.available)
    func ratingPage(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("sam", .staff)
            let (path, id) = try await Self.ratedQuestionPath(env, client, staff: staff, language: nil)
            let browser = CookieBrowser(client)

            // Opening the link (a mail scanner, twice) records nothing.
            for _ in 0..<2 {
                let page = try await browser.get(path)
                #expect(page.status == 200)
                #expect(page.html.contains("Voicemail PIN forgotten"))
                #expect(page.html.contains(#"id="rating-form""#))
                #expect(page.headers[.init("Referrer-Policy")!] == "no-referrer")
            }
            #expect(try await env.store.count("SELECT COUNT(*) FROM ratings WHERE question_id = ? AND score IS NOT NULL", [id]) == 0)

            let noScore = try await browser.post(path, form: ["comment": "hm"])
            #expect(noScore.status == 422 && noScore.html.contains("Choose a rating from 1 to 5"))
            let tooHigh = try await browser.post(path, form: ["score": "9"])
            #expect(tooHigh.status == 422)
            let long = try await browser.post(path, form: ["score": "4", "comment": String(repeating: "x", count: 5000)])
            #expect(long.status == 422 && long.html.contains("too long"))
            // What was sent comes back in the form.
            #expect(long.html.contains(#"value="4" required checked"#) && long.html.contains(String(repeating: "x", count: 5000)))

            let rated = try await browser.post(path, form: ["score": "4", "solved": "yes", "comment": "Quick & kind <3"])
            #expect(rated.status == 200 && rated.html.contains("Thank you"), "\(rated.html)")
            #expect(
                try await env.store.count(
                    "SELECT COUNT(*) FROM ratings WHERE question_id = ? AND score = 4 AND comment = 'Quick & kind <3'", [id]
                ) == 1
            )
            let reopened = try await browser.get(path)
            #expect(reopened.status == 200 && reopened.html.contains("Already rated"))
            #expect(!reopened.html.contains(#"id="rating-form""#))
            let twice = try await browser.post(path, form: ["score": "1"])
            #expect(twice.status == 409 && twice.html.contains("Already rated"))

            // Found by review: `Accept-Language: ;` crashed the server (an empty piece indexed).
            for header in [";", "en,;", ",,", ";q=0.5", "  ;  , de"] {
                var odd = HTTPFields()
                odd[.acceptLanguage] = header
                let page = try await browser.get("/v1/ratings/rt_unknown", headers: odd)
                #expect(page.status == 404, "\(header)")
            }
            let unknown = try await browser.get("/v1/ratings/rt_unknown")
            #expect(unknown.status == 404 && unknown.html.contains("not valid"))
            #expect(unknown.headers[.contentType]?.hasPrefix("text/html") == true)
            let garbage = try await browser.post("/v1/ratings/garbage", form: ["score": "5"])
            #expect(garbage.status == 404 && garbage.html.contains("not valid"))
        }
    }

    @Test("The rating page speaks the question's language; JSON clients still rate with JSON", arguments: Backend.available)
    func ratingLanguages(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("sam", .staff)
            let german = try await Self.ratedQuestionPath(env, client, staff: staff, language: "de")
            let browser = CookieBrowser(client)
            let page = try await browser.get(german.path)
            #expect(page.html.contains(#"<html lang="de">"#) && page.html.contains("Wie zufrieden sind Sie"))
            let thanks = try await browser.post(german.path, form: ["score": "5", "solved": "no"])
            #expect(thanks.html.contains("Vielen Dank"))

            // An unknown link has no question: the browser's language decides.
            var headers = HTTPFields()
            headers[.acceptLanguage] = "de-DE,de;q=0.9,en;q=0.5"
            #expect(try await browser.get("/v1/ratings/rt_nothing", headers: headers).html.contains("ungültig"))

            let english = try await Self.ratedQuestionPath(env, client, staff: staff, language: "en")
            let json = try await client.call(.post, english.path, json: ["score": 3, "solved": true])
            #expect(json.status == 201 && json.body["score"] as? Int == 3, "\(json.raw)")
        }
    }

    @Test("The queue's counts, kept by triggers, follow intake, claims, releases, resolution and folding", arguments: Backend.available)
    func queueCounts(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("sam", .staff)
            let volunteer = try await env.account("vera", .volunteer)
            func truth() async throws -> [String: Int] {
                var cells: [String: Int] = [:]
                for tier in Tier.allCases {
                    for state in ["open", "claimed"] {
                        for topic in env.runtime.policy.topics.map(\.name) {
                            let n = try await env.store.count(
                                "SELECT COUNT(*) FROM questions WHERE tier = ? AND state = ? AND topic = ?",
                                [tier.rawValue, state, topic]
                            )
                            if n > 0 { cells["\(tier.rawValue)/\(topic)/\(state)"] = n }
                        }
                    }
                }
                return cells
            }
            func counted() async throws -> [String: Int] {
                Dictionary(
                    uniqueKeysWithValues: try await env.store.queueCells().map {
                        ("\($0.tier.rawValue)/\($0.topic)/\($0.state.rawValue)", $0.count)
                    }
                )
            }
            var ids: [String] = []
            for subject in ["eSIM will not activate", "Roaming in Spain", "My bill is too high", "Port my number"] {
                ids.append(try await env.submit(subject, by: staff.helper).id)
            }
            #expect(try await counted() == truth())
            #expect(try await client.call(.post, "/v1/questions/\(ids[0])/claim", token: volunteer.token).status == 200)
            #expect(try await client.call(.post, "/v1/questions/\(ids[1])/claim", token: volunteer.token).status == 200)
            #expect(try await counted() == truth())
            #expect(try await client.call(.post, "/v1/questions/\(ids[1])/release", token: volunteer.token).status == 200)
            _ = try await client.call(.post, "/v1/questions/\(ids[2])/replies", token: staff.token, json: ["body": "Done."])
            #expect(try await client.call(.post, "/v1/questions/\(ids[2])/resolve", token: staff.token).status == 200)
            let truthNow = try await truth()
            #expect(try await counted() == truthNow)
            #expect(truthNow.values.reduce(0, +) == 3)
            _ = try await env.store.foldQueueCounts(limit: 2)
            #expect(try await counted() == truthNow)
            while try await env.store.foldQueueCounts(limit: 10000) > 0 {}
            #expect(try await counted() == truthNow)
            #expect(try await env.store.count("SELECT COUNT(*) FROM queue_count_changes") == 0)
        }
    }
}
