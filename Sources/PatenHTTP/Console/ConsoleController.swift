import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PatenCore
import ServiceLifecycle

/// The staff console at `/console`: server-rendered pages over the same desks as the API, signed in with a staff or
/// admin token exchanged for a session cookie. Every form carries the session's CSRF value; pages allow no inline
/// script and no framing (`HTMLPages`). The overview follows `/console/live`, which every open page shares through
/// one `ConsoleFeed`.
public struct ConsoleController: Sendable {
    /// The session cookie (Path=/console).
    static let sessionCookie = "paten_session"
    /// The sign-in form's CSRF cookie (Path=/console/login), compared with the form's hidden value.
    static let loginCookie = "paten_login"

    let desk: SupportDesk
    let escalations: EscalationDesk
    let incidents: IncidentDesk
    let programme: ProgrammeDesk
    let metrics: MetricsDesk
    let directory: HelperDirectory
    let sessions: ConsoleSessions
    let console: any ConsoleRepository
    let feed: ConsoleFeed
    let charts: ConsoleCharts
    let pages: HTMLPages
    /// Whether cookies are marked Secure: the server is reached over TLS (its public URL is https).
    let secureCookies: Bool
    let heartbeatInterval: Duration
    let recheckInterval: Duration
    /// The live streams each account holds open.
    let slots: EscalationStreamSlots

    /// Creates the controller; `feed` is shared by every open overview.
    public init(
        desk: SupportDesk, escalations: EscalationDesk, incidents: IncidentDesk, programme: ProgrammeDesk,
        metrics: MetricsDesk, directory: HelperDirectory, sessions: ConsoleSessions, console: any ConsoleRepository,
        feed: ConsoleFeed, charts: ConsoleCharts, pages: HTMLPages, secureCookies: Bool,
        heartbeatInterval: Duration = .seconds(15), recheckInterval: Duration = .seconds(5), streamsPerAccount: Int = 4
    ) {
        self.desk = desk
        self.escalations = escalations
        self.incidents = incidents
        self.programme = programme
        self.metrics = metrics
        self.directory = directory
        self.sessions = sessions
        self.console = console
        self.feed = feed
        self.charts = charts
        self.pages = pages
        self.secureCookies = secureCookies
        self.heartbeatInterval = heartbeatInterval
        self.recheckInterval = recheckInterval
        self.slots = EscalationStreamSlots(limit: streamsPerAccount)
    }

    /// The overview's live figures as JSON, as the feed sends them.
    public static func figures(_ console: any ConsoleRepository) async throws -> String {
        String(decoding: try JSONEncoder().encode(try await ConsoleFigures.read(console)), as: UTF8.self)
    }

    /// A signed-in request: the session and its account.
    struct Visit {
        var session: ConsoleSession
        var helper: Helper
    }

    // MARK: Routes

    /// Adds the console's routes.
    public func addRoutes(to router: Router<PatenRequestContext>) {
        router.get("console/assets/console.css") { _, _ in Self.asset(ConsoleAssets.css, type: "text/css; charset=utf-8") }
        router.get("console/assets/console.js") { _, _ in
            Self.asset(ConsoleAssets.js, type: "text/javascript; charset=utf-8")
        }
        router.get("console/login", use: loginPage)
        router.post("console/login", use: login)
        router.post("console/logout", use: logout)
        router.get("console") { request, _ in try await page(request) { try await overview(request, $0) } }
        router.get("console/live", use: live)
        router.get("console/escalations") { request, _ in
            try await page(request) { try await escalationList(request, $0) }
        }
        router.post("console/escalations/{id}/acknowledge") { request, context in
            try await action(request) { visit, _ in
                _ = try await escalations.acknowledge(try context.pathID(), by: visit.helper)
                return "acknowledged"
            }
        }
        router.post("console/escalations/{id}/resolve") { request, context in
            try await action(request) { visit, _ in
                _ = try await escalations.resolve(try context.pathID(), by: visit.helper)
                return "resolved"
            }
        }
        router.get("console/questions/{id}") { request, context in
            try await page(request) { try await question(try context.pathID(), $0) }
        }
        router.get("console/incidents") { request, _ in try await page(request) { try await incidentList(request, $0) } }
        router.get("console/incidents/{id}") { request, context in
            try await page(request) { try await incident(request, try context.pathID(), $0) }
        }
        router.post("console/incidents/{id}/updates") { request, context in
            let id = try context.pathID()
            return try await action(request, back: "/console/incidents/\(id)") { visit, form in
                _ = try await incidents.postUpdate(id: id, body: form["body"] ?? "", by: visit.helper)
                return "update_posted"
            }
        }
        router.get("console/volunteers") { request, _ in try await page(request) { try await volunteers(request, $0) } }
        router.post("console/volunteers/{id}/resume") { request, context in
            let id = try context.pathID()
            return try await action(request, back: "/console/volunteers") { visit, form in
                _ = try await programme.resume(id, note: form["note"] ?? "", by: visit.helper)
                return "resumed"
            }
        }
        router.get("console/metrics") { request, _ in try await page(request) { try await metricsPage(request, $0) } }
        router.get("console/metrics/export") { request, context in
            guard let visit = try await signedIn(request) else { return Self.redirect("/console/login") }
            var context = context
            context.identity = visit.helper
            return try await MetricsController(metrics: metrics).export(request, context: context)
        }
    }

    // MARK: Sign-in

    @Sendable func loginPage(_ request: Request, context: PatenRequestContext) async throws -> Response {
        if try await signedIn(request) != nil { return Self.redirect("/console") }
        return loginForm(error: nil, status: .ok)
    }

    private func loginForm(error: String?, status: HTTPResponse.Status) -> Response {
        let csrf = ConsoleSessions.randomValue()
        var values: [String: Any] = ["title": "Sign in", "loginCsrf": csrf]
        if let error { values["error"] = error }
        var response = pages.response("login", values, status: status)
        response.setCookie(
            Cookie(
                name: Self.loginCookie, value: csrf, maxAge: 3600, path: "/console/login", secure: secureCookies,
                httpOnly: true, sameSite: .strict
            )
        )
        return response
    }

    @Sendable func login(_ request: Request, context: PatenRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        guard let expected = request.cookies[Self.loginCookie]?.value, !expected.isEmpty, form["csrf"] == expected else {
            return loginForm(
                error: "The sign-in form had expired or did not come from this page; try again.", status: .forbidden
            )
        }
        do {
            let (cookie, _, _) = try await sessions.signIn(secret: form["token"] ?? "")
            var response = Self.redirect("/console")
            response.setCookie(
                Cookie(
                    name: Self.sessionCookie, value: cookie, maxAge: Int(ConsoleSessions.lifetime), path: "/console",
                    secure: secureCookies, httpOnly: true, sameSite: .strict
                )
            )
            response.setCookie(Self.expired(Self.loginCookie, path: "/console/login", secure: secureCookies))
            return response
        } catch let error as PatenError where error.kind == .unauthenticated || error.kind == .forbidden {
            return loginForm(error: error.message, status: error.kind == .forbidden ? .forbidden : .unauthorized)
        }
    }

    @Sendable func logout(_ request: Request, context: PatenRequestContext) async throws -> Response {
        guard let visit = try await signedIn(request) else {
            var response = Self.redirect("/console/login")
            response.setCookie(Self.expired(Self.sessionCookie, path: "/console", secure: secureCookies))
            return response
        }
        let form = try await FormBody.read(request)
        guard ConsoleSessions.csrfMatches(form["csrf"], visit.session) else { return csrfRefused(visit) }
        if let cookie = request.cookies[Self.sessionCookie]?.value { try await sessions.signOut(cookie: cookie) }
        var response = Self.redirect("/console/login")
        response.setCookie(Self.expired(Self.sessionCookie, path: "/console", secure: secureCookies))
        return response
    }

    /// The signed-in visit, if the request's session cookie stands for a live session.
    func signedIn(_ request: Request) async throws -> Visit? {
        guard let cookie = request.cookies[Self.sessionCookie]?.value,
            let (session, helper) = try await sessions.session(cookie: cookie)
        else { return nil }
        return Visit(session: session, helper: helper)
    }

    // MARK: Page plumbing

    /// A signed-in page: the login page for a visitor without a session; refusals of the desks as pages.
    func page(_ request: Request, _ body: (Visit) async throws -> Response) async throws -> Response {
        guard let visit = try await signedIn(request) else { return Self.redirect("/console/login") }
        do {
            return try await body(visit)
        } catch let error as PatenError where error.kind != .unavailable {
            return refusal(error, visit)
        }
    }

    /// A signed-in form's POST: refused with 403 without the session's CSRF value; on success, back to the page it came
    /// from (a console path only) with what happened.
    func action(
        _ request: Request, back fallback: String = "/console/escalations",
        _ body: (Visit, FormBody) async throws -> String
    ) async throws -> Response {
        guard let visit = try await signedIn(request) else { return Self.redirect("/console/login") }
        let form = try await FormBody.read(request)
        guard ConsoleSessions.csrfMatches(form["csrf"], visit.session) else { return csrfRefused(visit) }
        do {
            let done = try await body(visit, form)
            let back = form["back"].flatMap(Self.consolePath) ?? fallback
            return Self.redirect(back + (back.contains("?") ? "&" : "?") + "done=\(done)")
        } catch let error as PatenError where error.kind != .unavailable {
            return refusal(error, visit)
        }
    }

    private func csrfRefused(_ visit: Visit) -> Response {
        pages.message(
            "Form refused",
            "This form did not carry the console's check value (CSRF), so it was not acted on. Reload the page and try again.",
            status: .forbidden, link: ("/console", "Back to the overview"), base: base(visit, current: "")
        )
    }

    private func refusal(_ error: PatenError, _ visit: Visit) -> Response {
        pages.message(
            "That did not work", "\(error.message) (\(error.code))",
            status: PatenErrorMiddleware<PatenRequestContext>.status(for: error.kind), link: ("/console", "Back to the overview"),
            base: base(visit, current: "")
        )
    }

    /// A path inside the console, or nil (no open redirects).
    static func consolePath(_ text: String) -> String? {
        guard text.hasPrefix("/console"), text.count < 300, !text.contains("//"), !text.contains("\\"),
            text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f })
        else { return nil }
        return text
    }

    static func redirect(_ location: String) -> Response {
        var headers = HTMLPages.securityHeaders
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    static func expired(_ name: String, path: String, secure: Bool) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: path, secure: secure, httpOnly: true, sameSite: .strict)
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "public, max-age=3600"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static let navigation: [(href: String, label: String, key: String)] = [
        ("/console", "Overview", "overview"), ("/console/escalations", "Escalations", "escalations"),
        ("/console/incidents", "Incidents", "incidents"), ("/console/volunteers", "Volunteers", "volunteers"),
        ("/console/metrics", "Metrics", "metrics"),
    ]

    static let doneMessages = [
        "acknowledged": "Escalation acknowledged.", "resolved": "Escalation resolved.",
        "update_posted": "Update posted to every open linked question.", "resumed": "Volunteer resumed.",
    ]

    /// What every signed-in page shows: navigation, the account, the CSRF value.
    func base(_ visit: Visit, current: String, request: Request? = nil) -> [String: Any] {
        var values: [String: Any] = [
            "signedIn": true, "handle": visit.helper.handle, "role": visit.helper.role.rawValue,
            "csrf": visit.session.csrfToken,
            "nav": Self.navigation.map { ["href": $0.href, "label": $0.label, "current": $0.key == current] as [String: Any] },
        ]
        if let done = request?.uri.queryParameters.get("done").flatMap({ Self.doneMessages[String($0)] }) {
            values["flash"] = ["kind": "done", "text": done]
        }
        return values
    }

    // MARK: Pages

    func overview(_ request: Request, _ visit: Visit) async throws -> Response {
        var values = base(visit, current: "overview", request: request)
        values["title"] = "Overview"
        values["script"] = true
        let figures = try await ConsoleFigures.read(console)
        values["waiting"] = figures.waiting
        values["claimed"] = figures.claimed
        values["openEscalations"] = figures.openEscalations
        values["atRisk"] = figures.atRisk
        values["queue"] = figures.queue.map {
            ["tier": $0.tier, "topic": $0.topic, "waiting": $0.waiting, "claimed": $0.claimed] as [String: Any]
        }
        values["reasons"] = figures.reasons.map {
            ["reason": $0.reason, "open": $0.open, "acknowledged": $0.acknowledged] as [String: Any]
        }
        let open = try await escalations.list(EscalationFilter(state: .open, limit: 20), for: visit.helper)
        values["escalationRows"] = escalationRows(open, back: "/console")
        let (groups, at, from) = try await charts.summary(for: visit.helper)
        let firstResponse = ConsoleCharts.points(groups, from: from) {
            [$0.firstResponse.median.map { $0 / 60 }, $0.firstResponse.p90.map { $0 / 60 }]
        }
        values["firstResponseChart"] = ConsoleCharts.lines(firstResponse, label: "First response in minutes by day")
        values["csatChart"] = ConsoleCharts.bars(
            ConsoleCharts.points(groups, from: from) { [$0.csat] }, label: "CSAT by day"
        )
        values["peerShareChart"] = ConsoleCharts.bars(
            ConsoleCharts.points(groups, from: from) { [$0.peerShare] }, label: "Peer share by day"
        )
        values["chartDays"] = ConsoleCharts.days
        values["chartsAt"] = Self.short(at) + " UTC"
        return pages.response("overview", values)
    }

    func escalationRows(_ list: [Escalation], back: String) -> [[String: Any]] {
        list.map { escalation in
            [
                "id": escalation.id, "questionId": escalation.questionId, "subject": escalation.questionSubject,
                "reason": escalation.reason.rawValue, "level": escalation.level, "state": escalation.state.rawValue,
                "createdAt": APICoding.format(escalation.createdAt),
                "createdShort": String(Self.short(escalation.createdAt).dropFirst(5)),
                "canAcknowledge": escalation.state == .open, "canResolve": escalation.state != .resolved, "back": back,
            ]
        }
    }

    func escalationList(_ request: Request, _ visit: Visit) async throws -> Response {
        var values = base(visit, current: "escalations", request: request)
        values["title"] = "Escalations"
        let stateText = request.uri.queryParameters.get("state").map { String($0) } ?? "open"
        let reasonText = request.uri.queryParameters.get("reason").map { String($0) } ?? ""
        let levelText = request.uri.queryParameters.get("level").map { String($0) } ?? ""
        let state = stateText == "any" ? nil : try request.query("state", as: EscalationState.self) ?? .open
        let reason = reasonText.isEmpty ? nil : try request.query("reason", as: EscalationReason.self)
        let level = levelText.isEmpty ? nil : try request.query("level", in: 1...2)
        let list = try await escalations.list(
            EscalationFilter(state: state, level: level, reason: reason, limit: 200), for: visit.helper
        )
        var query = "state=\(stateText)"
        if !reasonText.isEmpty { query += "&reason=\(reasonText)" }
        if !levelText.isEmpty { query += "&level=\(levelText)" }
        values["escalationRows"] = escalationRows(list, back: "/console/escalations?" + query)
        values["states"] = (["any"] + EscalationState.allCases.map(\.rawValue)).map {
            ["value": $0, "label": $0, "selected": $0 == stateText] as [String: Any]
        }
        values["reasonOptions"] = ([""] + EscalationReason.allCases.map(\.rawValue)).map {
            ["value": $0, "label": $0.isEmpty ? "any" : $0, "selected": $0 == reasonText] as [String: Any]
        }
        values["levels"] = ["", "1", "2"].map {
            ["value": $0, "label": $0.isEmpty ? "any" : $0, "selected": $0 == levelText] as [String: Any]
        }
        return pages.response("escalations", values)
    }

    func question(_ id: String, _ visit: Visit) async throws -> Response {
        let detail = try await desk.detail(id: id, for: visit.helper)
        let question = detail.question
        var values = base(visit, current: "escalations")
        values["title"] = question.subject
        values["subject"] = question.subject
        values["state"] = question.state.rawValue
        values["tier"] = question.tier.rawValue
        values["topic"] = question.topic
        values["priority"] = question.priority.rawValue
        values["language"] = question.language
        values["customer"] = question.customer.name
        values["createdAt"] = APICoding.format(question.createdAt)
        // Only values that are there: a nil would render as "nil" and open its section.
        if let holder = question.holderId { values["holder"] = detail.handles[holder] ?? holder }
        if let incidentId = question.incidentId { values["incidentId"] = incidentId }
        values["messages"] = detail.messages.map { message -> [String: Any] in
            let author =
                message.helperId.map { detail.handles[$0] ?? $0 } ?? "\(message.authorKind.rawValue) (\(question.customer.name))"
            return [
                "kind": message.authorKind.rawValue, "author": author, "at": APICoding.format(message.createdAt),
                "body": message.body,
            ]
        }
        values["events"] = detail.events.map { event -> [String: Any] in
            var values: [String: Any] = [
                "at": APICoding.format(event.at), "type": event.type.rawValue,
                "details": event.data.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "),
            ]
            if let actor = event.actorId { values["actor"] = detail.handles[actor] ?? actor }
            return values
        }
        return pages.response("question", values)
    }

    func incidentList(_ request: Request, _ visit: Visit) async throws -> Response {
        var values = base(visit, current: "incidents", request: request)
        values["title"] = "Incidents"
        let all = request.uri.queryParameters.get("state") == "all"
        values["openOnly"] = !all
        let page = try await incidents.list(state: all ? nil : .open, after: nil, limit: 100, for: visit.helper)
        values["rows"] = page.incidents.map { summary -> [String: Any] in
            [
                "id": summary.incident.id, "title": summary.incident.title, "state": summary.incident.state.rawValue,
                "openedAt": Self.short(summary.incident.openedAt), "questions": summary.questionCount,
                "open": summary.openQuestions, "latest": summary.latestUpdate?.body ?? "",
            ]
        }
        return pages.response("incidents", values)
    }

    func incident(_ request: Request, _ id: String, _ visit: Visit) async throws -> Response {
        let detail = try await incidents.detail(id: id, questionsAfter: nil, questionsLimit: 200, for: visit.helper)
        let incident = detail.summary.incident
        var values = base(visit, current: "incidents", request: request)
        values["title"] = incident.title
        values["id"] = incident.id
        values["state"] = incident.state.rawValue
        values["isOpen"] = incident.state == .open
        values["openedAt"] = Self.short(incident.openedAt)
        values["observed"] = incident.observed
        values["expected"] = String(format: "%.1f", incident.expected)
        values["probability"] = String(format: "%.1e", incident.probability)
        values["windowMinutes"] = Int(incident.window / 60)
        values["terms"] = incident.topTerms.joined(separator: ", ")
        values["questionCount"] = detail.summary.questionCount
        values["openQuestions"] = detail.summary.openQuestions
        values["updates"] = detail.updates.map {
            ["kind": $0.kind.rawValue, "at": Self.short($0.createdAt), "body": $0.body] as [String: Any]
        }
        values["questions"] = detail.questions.map {
            ["id": $0.question.id, "subject": $0.question.subject, "state": $0.question.state.rawValue, "how": $0.link.kind.rawValue]
                as [String: Any]
        }
        return pages.response("incident", values)
    }

    func volunteers(_ request: Request, _ visit: Visit) async throws -> Response {
        var values = base(visit, current: "volunteers", request: request)
        values["title"] = "Volunteers"
        let counts = try await programme.volunteerCounts()
        values["levels"] = counts.byLevel.map { ["level": $0.level, "count": $0.count] as [String: Any] }
        values["paused"] = counts.paused
        let helpers = try await directory.list(role: .volunteer).filter(\.active).prefix(200)
        var rows: [[String: Any]] = []
        for helper in helpers {
            let summary = try await programme.summary(of: helper.id, for: visit.helper)
            var filter = QuestionFilter()
            filter.holderId = helper.id
            filter.limit = 200
            let holding = try await desk.list(filter, for: visit.helper).questions.count
            rows.append([
                "id": helper.id, "handle": helper.handle, "level": summary.level ?? "–", "points": summary.pointsTotal,
                "week": summary.pointsWeek, "accepted": summary.accepted, "presence": helper.presence.rawValue,
                "holding": holding, "paused": summary.paused,
            ])
        }
        values["rows"] = rows
        return pages.response("volunteers", values)
    }

    func metricsPage(_ request: Request, _ visit: Visit) async throws -> Response {
        var values = base(visit, current: "metrics")
        values["title"] = "Metrics"
        let (from, to) = try metrics.period(from: nil, to: nil)
        values["from"] = APIDay.format(from)
        values["to"] = APIDay.format(to)
        func percent(_ value: Double?) -> String { value.map { "\(Int(($0 * 100).rounded()))%" } ?? "–" }
        func duration(_ seconds: Double?) -> String {
            guard let seconds else { return "–" }
            return seconds >= 3600 ? String(format: "%.1f h", seconds / 3600) : String(format: "%.0f min", seconds / 60)
        }
        var tables: [[String: Any]] = []
        for grouping in [MetricsGrouping.tier, .topic, .channel] {
            let groups = try await metrics.summary(from: from, to: to, by: grouping, for: visit.helper)
            tables.append([
                "name": grouping.rawValue,
                "rows": groups.map { group -> [String: Any] in
                    [
                        "key": group.key, "questions": group.questions, "resolved": group.resolved,
                        "escalated": group.escalated, "p50": duration(group.firstResponse.median),
                        "p90": duration(group.firstResponse.p90), "peer": percent(group.peerShare),
                        "csat": percent(group.csat), "ratings": group.ratings,
                    ]
                },
            ])
        }
        values["tables"] = tables
        let monthStart = Calendar.utc.date(byAdding: .month, value: -11, to: Calendar.utc.startOfDay(for: to)) ?? from
        let months = try await programme.value(from: monthStart, to: to, for: visit.helper)
        values["value"] = months.map { month -> [String: Any] in
            [
                "month": month.tally.month, "resolved": month.tally.resolved,
                "withoutStaff": month.tally.resolvedWithoutStaff,
                "saved": String(format: "%.2f %@", month.staffCostSaved, month.currency),
                "paid": String(format: "%.2f %@", month.paidValue, month.currency),
                "net": String(format: "%.2f %@", month.net, month.currency), "volunteerCsat": percent(month.volunteerCsat),
                "staffCsat": percent(month.staffCsat),
            ]
        }
        return pages.response("metrics", values)
    }

    static func short(_ date: Date) -> String {
        String(APICoding.format(date).replacingOccurrences(of: "T", with: " ").prefix(16))
    }

    // MARK: Live

    /// `GET /console/live`: the shared feed as Server-Sent Events for a signed-in page, with heartbeats. An account
    /// holds at most as many as the API's escalation streams allow (429 `too_many_streams`). The stream sends an
    /// `ended` event and stops when the session has ended (checked every `recheckInterval`; a failed check is tried
    /// again, not taken for an end); at graceful shutdown it just stops, and the page reconnects to another instance.
    @Sendable func live(_ request: Request, context: PatenRequestContext) async throws -> Response {
        guard let visit = try await signedIn(request) else {
            throw PatenError.unauthenticated
        }
        let cookie = request.cookies[Self.sessionCookie]?.value ?? ""
        let slot = try slots.claim(for: visit.helper.id, retryAfter: recheckInterval)
        var headers = HTMLPages.securityHeaders
        headers[.contentType] = "text/event-stream"
        let feed = self.feed
        let sessions = self.sessions
        let heartbeat = heartbeatInterval
        let recheck = recheckInterval
        let logger = context.logger
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                // Subscribed here, inside the body: a client gone before the head was written never subscribes.
                defer { slot.release() }
                try await writer.write(ByteBuffer(string: ": connected\n\n"))
                let (id, events) = try await feed.subscribe()
                defer { feed.cancel(id) }
                let ended = StopSignal()
                try await withGracefulShutdownHandler {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            while !Task.isCancelled {
                                try await Task.sleep(for: recheck)
                                do {
                                    if try await sessions.session(cookie: cookie) == nil {
                                        ended.set()
                                        feed.cancel(id)
                                        return
                                    }
                                } catch {
                                    logger.warning("console stream session check failed", metadata: ["error": "\(error)"])
                                }
                            }
                        }
                        group.addTask {
                            while !Task.isCancelled {
                                try await Task.sleep(for: heartbeat)
                                feed.ping(id)
                            }
                        }
                        for await text in events {
                            try await writer.write(ByteBuffer(string: text))
                        }
                        group.cancelAll()
                    }
                } onGracefulShutdown: {
                    feed.cancel(id)
                }
                if ended.isSet { try await writer.write(ByteBuffer(string: "event: ended\ndata: {}\n\n")) }
                try await writer.finish(nil)
            }
        )
    }
}

/// The overview's live figures: the queue by tier and topic, unresolved escalations by reason, and their totals.
struct ConsoleFigures: Encodable, Sendable {
    struct QueueRow: Encodable, Sendable {
        var tier: String
        var topic: String
        var waiting: Int
        var claimed: Int
    }

    struct ReasonRow: Encodable, Sendable {
        var reason: String
        var open: Int
        var acknowledged: Int
    }

    var waiting: Int
    var claimed: Int
    var openEscalations: Int
    var atRisk: Int
    var queue: [QueueRow]
    var reasons: [ReasonRow]

    enum CodingKeys: String, CodingKey {
        case waiting, claimed, queue, reasons
        case openEscalations = "open-escalations"
        case atRisk = "at-risk"
    }

    /// Reads them: two grouped counts over indexes of unresolved questions and escalations only.
    static func read(_ console: any ConsoleRepository) async throws -> ConsoleFigures {
        let cells = try await console.queueCells()
        var queue: [String: QueueRow] = [:]
        for cell in cells {
            let key = "\(cell.tier.rawValue)/\(cell.topic)"
            var row = queue[key] ?? QueueRow(tier: cell.tier.rawValue, topic: cell.topic, waiting: 0, claimed: 0)
            if cell.state == .open { row.waiting += cell.count } else { row.claimed += cell.count }
            queue[key] = row
        }
        let entries = try await console.unresolvedEscalationsByReason()
        var reasons: [String: ReasonRow] = [:]
        for entry in entries {
            var row = reasons[entry.reason.rawValue] ?? ReasonRow(reason: entry.reason.rawValue, open: 0, acknowledged: 0)
            if entry.state == .open { row.open += entry.count } else { row.acknowledged += entry.count }
            reasons[entry.reason.rawValue] = row
        }
        return ConsoleFigures(
            waiting: cells.filter { $0.state == .open }.reduce(0) { $0 + $1.count },
            claimed: cells.filter { $0.state == .claimed }.reduce(0) { $0 + $1.count },
            openEscalations: entries.filter { $0.state == .open }.reduce(0) { $0 + $1.count },
            atRisk: entries.filter(\.reason.atRisk).reduce(0) { $0 + $1.count },
            queue: queue.sorted { $0.key < $1.key }.map(\.value),
            reasons: reasons.sorted { $0.key < $1.key }.map(\.value)
        )
    }
}
