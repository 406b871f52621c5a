import Foundation
import Hummingbird
import PatenCore

/// The volunteer programme: a helper's standing, quiet hours and budget, topic grants, resuming a paused volunteer,
/// the points ledger, the leaderboard, payouts and the value report.
public struct ProgrammeController: Sendable {
    let programme: ProgrammeDesk
    let metrics: MetricsDesk

    /// Creates the controller.
    public init(programme: ProgrammeDesk, metrics: MetricsDesk) {
        self.programme = programme
        self.metrics = metrics
    }

    /// `PATCH /v1/me/programme`: a key left out is unchanged, a null clears it.
    struct SettingsRequest: Decodable {
        struct Range: Decodable {
            var start: String
            var end: String
        }
        var timeZone: String??
        var quietHours: Range??

        // The API decoder turns snake_case keys into these names before they are matched.
        enum CodingKeys: String, CodingKey {
            case timeZone, quietHours
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            timeZone = try container.decodeChange(String.self, forKey: .timeZone)
            quietHours = try container.decodeChange(Range.self, forKey: .quietHours)
        }
    }

    /// `PATCH /v1/helpers/{id}/programme`: the helper's own weekly budget; null returns to the policy's.
    struct BudgetRequest: Decodable {
        var weeklyClaims: Int??
        var weeklyHours: Double??

        enum CodingKeys: String, CodingKey {
            case weeklyClaims, weeklyHours
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            weeklyClaims = try container.decodeChange(Int.self, forKey: .weeklyClaims)
            weeklyHours = try container.decodeChange(Double.self, forKey: .weeklyHours)
        }
    }

    /// `POST /v1/helpers/{id}/topics` body.
    struct TopicRequest: Decodable {
        var topic: String
        var access: String
    }

    /// `POST /v1/helpers/{id}/resume` body.
    struct ResumeRequest: Decodable {
        var note: String
    }

    /// `POST /v1/programme/payouts` body.
    struct PayoutRequest: Decodable {
        var periodEnd: String
    }

    /// Adds the routes to a group under `/v1`.
    public func addRoutes(to group: RouterGroup<PatenRequestContext>) {
        group.get("me/programme") { _, context in
            let viewer = try context.requireIdentity()
            guard viewer.role.answersQuestions else {
                throw PatenError.forbidden("role_has_no_programme", "Integration accounts take no part in the programme.")
            }
            return ProgrammeResource(try await programme.summary(of: viewer.id, for: viewer))
        }
        group.patch("me/programme") { request, context in
            let viewer = try context.requireIdentity()
            var request = request
            let body = try await request.decodeJSON(SettingsRequest.self)
            _ = try await programme.setQuietHours(
                timeZone: body.timeZone, quietHours: body.quietHours.map { $0.map { ($0.start, $0.end) } }, for: viewer
            )
            return ProgrammeResource(try await programme.summary(of: viewer.id, for: viewer))
        }
        group.get("helpers/{id}/programme") { _, context in
            let viewer = try context.requireIdentity()
            return ProgrammeResource(try await programme.summary(of: try context.pathID(), for: viewer))
        }
        group.patch("helpers/{id}/programme") { request, context in
            let viewer = try context.requireIdentity()
            var request = request
            let body = try await request.decodeJSON(BudgetRequest.self)
            let id = try await programme.setBudget(
                of: try context.pathID(), weeklyClaims: body.weeklyClaims, weeklyHours: body.weeklyHours, by: viewer
            )
            return ProgrammeResource(try await programme.summary(of: id, for: viewer))
        }
        group.post("helpers/{id}/topics") { request, context in
            let viewer = try context.requireIdentity()
            var request = request
            let body = try await request.decodeJSON(TopicRequest.self)
            guard let access = ProgrammeDesk.TopicAccess(rawValue: body.access) else {
                throw PatenError.unprocessable("invalid_access", "access must be one of: grant, revoke, policy.")
            }
            let id = try await programme.setTopic(body.topic, access: access, for: try context.pathID(), by: viewer)
            return ProgrammeResource(try await programme.summary(of: id, for: viewer))
        }
        group.post("helpers/{id}/resume") { request, context in
            let viewer = try context.requireIdentity()
            var request = request
            let body = try await request.decodeJSON(ResumeRequest.self)
            let id = try await programme.resume(try context.pathID(), note: body.note, by: viewer)
            return ProgrammeResource(try await programme.summary(of: id, for: viewer))
        }
        group.get("programme/ledger", use: ledger)
        group.get("programme/leaderboard") { request, context in
            let viewer = try context.requireIdentity()
            let period = try request.query("period", as: ProgrammeDesk.Period.self) ?? .week
            let topic = request.uri.queryParameters.get("topic").map { String($0) }
            let entries = try await programme.leaderboard(period: period, topic: topic, for: viewer)
            return LeaderboardResource(
                period: period.rawValue, topic: topic,
                entries: entries.map { .init(handle: $0.handle, level: $0.level, points: $0.points) }
            )
        }
        group.post("programme/payouts") { request, context -> EditedResponse<PayoutResource> in
            let viewer = try context.requireIdentity()
            var request = request
            let body = try await request.decodeJSON(PayoutRequest.self)
            guard let end = MetricsDesk.periodBound(body.periodEnd) else {
                throw PatenError.unprocessable(
                    "invalid_period_end", "period_end must be an RFC 3339 time or a date (YYYY-MM-DD, its midnight UTC)."
                )
            }
            let (payout, created) = try await programme.createPayout(periodEnd: end, by: viewer)
            return EditedResponse(status: created ? .created : .ok, response: PayoutResource(payout))
        }
        group.get("programme/payouts/{id}", use: payout)
        group.get("programme/value", use: value)
    }

    func format(_ request: Request) throws -> String {
        let format = request.uri.queryParameters.get("format").map { String($0) } ?? "json"
        guard format == "csv" || format == "json" else {
            throw PatenError.malformed("invalid_query", "Query parameter 'format' must be one of: csv, json.")
        }
        return format
    }

    func csvResponse(_ text: String, name: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(name)\""
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    func time(_ request: Request, _ name: String) throws -> Date? {
        guard let text = request.uri.queryParameters.get(name).map({ String($0) }) else { return nil }
        guard let date = MetricsDesk.periodBound(text) else {
            throw PatenError.malformed(
                "invalid_query", "Query parameter '\(name)' must be an RFC 3339 time or a date (YYYY-MM-DD)."
            )
        }
        return date
    }

    @Sendable func ledger(_ request: Request, context: PatenRequestContext) async throws -> Response {
        let viewer = try context.requireIdentity()
        let format = try format(request)
        let helper = request.uri.queryParameters.get("helper").map { String($0) }
        let after: Int64
        if let cursor = request.uri.queryParameters.get("after") {
            guard let value = Int64(cursor), value >= 0 else {
                throw PatenError.malformed("invalid_cursor", "'after' must be the next_after of an earlier page.")
            }
            after = value
        } else {
            after = 0
        }
        let limit = try request.query("limit", default: format == "csv" ? 1000 : 100)
        let rows = try await programme.ledger(
            helperId: helper, from: try time(request, "from"), to: try time(request, "to"), after: after, limit: limit,
            for: viewer
        )
        if format == "csv" {
            var text = "seq,id,helper_id,handle,amount,reason,question_id,topic,payout_id,at\r\n"
            for row in rows {
                text += MetricsExport.csvLine([
                    .integer(Int(row.seq)), .text(row.entry.id), .text(row.entry.helperId), .text(row.handle),
                    .integer(row.entry.amount), .text(row.entry.reason.rawValue),
                    row.entry.questionId.map { .text($0) } ?? .empty, row.entry.topic.map { .text($0) } ?? .empty,
                    row.entry.payoutId.map { .text($0) } ?? .empty, .text(APICoding.format(row.entry.at)),
                ])
            }
            return csvResponse(text, name: "paten-ledger.csv")
        }
        let page = LedgerResource(
            entries: rows.map(LedgerResource.Entry.init),
            nextAfter: rows.count == limit ? rows.last.map { String($0.seq) } : nil
        )
        return try page.response(from: request, context: context)
    }

    @Sendable func payout(_ request: Request, context: PatenRequestContext) async throws -> Response {
        let viewer = try context.requireIdentity()
        let format = try format(request)
        let payout = try await programme.payout(try context.pathID(), for: viewer)
        if format == "csv" {
            var text = "helper_id,handle,points,amount,currency\r\n"
            for line in payout.lines {
                text += MetricsExport.csvLine([
                    .text(line.helperId), .text(line.handle), .integer(line.points),
                    .money(payout.amount(line.points)), .text(payout.currency),
                ])
            }
            return csvResponse(text, name: "paten-payout-\(payout.id).csv")
        }
        return try PayoutResource(payout).response(from: request, context: context)
    }

    @Sendable func value(_ request: Request, context: PatenRequestContext) async throws -> Response {
        let viewer = try context.requireIdentity()
        let format = try format(request)
        let (from, to) = try metrics.period(from: try time(request, "from"), to: try time(request, "to"))
        let months = try await programme.value(from: from, to: to, for: viewer)
        if format == "csv" {
            var text =
                "month,resolved,resolved_without_staff,staff_cost_saved,volunteer_csat,staff_csat,points_paid,paid_value,net,currency\r\n"
            for month in months {
                text += MetricsExport.csvLine([
                    .text(month.tally.month), .integer(month.tally.resolved), .integer(month.tally.resolvedWithoutStaff),
                    .money(month.staffCostSaved), month.volunteerCsat.map { .number($0) } ?? .empty,
                    month.staffCsat.map { .number($0) } ?? .empty, .integer(month.tally.pointsPaid),
                    .money(month.paidValue), .money(month.net), .text(month.currency),
                ])
            }
            return csvResponse(text, name: "paten-programme-value.csv")
        }
        return try ValueResource(from: from, to: to, months: months.map(ValueResource.Month.init))
            .response(from: request, context: context)
    }
}

extension KeyedDecodingContainer {
    /// A field of a PATCH body: absent (nil: leave it as it is), null (`.some(nil)`: clear it) or a value.
    func decodeChange<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T?? {
        guard contains(key) else { return nil }
        return .some(try decodeNil(forKey: key) ? nil : try decode(T.self, forKey: key))
    }
}

/// A helper's programme.
public struct ProgrammeResource: ResponseCodable, Sendable {
    public struct Points: Codable, Sendable {
        public var total: Int
        public var week: Int
        public var period: Int
        public var balance: Int
    }
    public struct NextLevel: Codable, Sendable {
        public var level: String
        public var points: Int
        public var accepted: Int
    }
    public struct Budget: Codable, Sendable {
        public var claimsLeft: Int?
        public var hoursLeft: Double?
        public var weeklyClaims: Int?
        public var weeklyHours: Double?
    }
    public struct QuietHoursResource: Codable, Sendable {
        public var start: String
        public var end: String
    }

    public var helperId: String
    public var handle: String
    public var points: Points
    public var level: String?
    public var nextLevel: NextLevel?
    public var acceptedAnswers: Int
    public var badges: [String]
    public var unlockedTopics: [String]
    public var lockedTopics: [String]
    public var budget: Budget
    public var paused: Bool
    public var pausedAt: Date?
    public var timeZone: String?
    public var quietHours: QuietHoursResource?
    public var inQuietHours: Bool

    /// The resource for a summary.
    public init(_ summary: ProgrammeSummary) {
        helperId = summary.helperId
        handle = summary.handle
        points = Points(
            total: summary.pointsTotal, week: summary.pointsWeek, period: summary.pointsPeriod, balance: summary.balance
        )
        level = summary.level
        nextLevel = summary.nextLevel.map { NextLevel(level: $0.id, points: $0.points, accepted: $0.accepted) }
        acceptedAnswers = summary.accepted
        badges = summary.badges
        unlockedTopics = summary.unlockedTopics
        lockedTopics = summary.lockedTopics
        budget = Budget(
            claimsLeft: summary.claimsLeft, hoursLeft: summary.hoursLeft, weeklyClaims: summary.settings.weeklyClaims,
            weeklyHours: summary.settings.weeklyHours
        )
        paused = summary.paused
        pausedAt = summary.pausedAt
        timeZone = summary.settings.timeZone
        quietHours = summary.settings.quietHours.map {
            QuietHoursResource(start: QuietHours.text($0.start), end: QuietHours.text($0.end))
        }
        inQuietHours = summary.inQuietHours
    }
}

/// A page of the points ledger.
public struct LedgerResource: ResponseCodable, Sendable {
    public struct Entry: Codable, Sendable {
        public var seq: Int64
        public var id: String
        public var helperId: String
        public var handle: String
        public var amount: Int
        public var reason: String
        public var questionId: String?
        public var topic: String?
        public var payoutId: String?
        public var at: Date

        init(_ row: LedgerRow) {
            seq = row.seq
            id = row.entry.id
            helperId = row.entry.helperId
            handle = row.handle
            amount = row.entry.amount
            reason = row.entry.reason.rawValue
            questionId = row.entry.questionId
            topic = row.entry.topic
            payoutId = row.entry.payoutId
            at = row.entry.at
        }
    }
    public var entries: [Entry]
    /// Pass as `after` for the next page; null on the last.
    public var nextAfter: String?
}

/// The leaderboard: handles and points, for volunteers too.
public struct LeaderboardResource: ResponseCodable, Sendable {
    public struct Entry: Codable, Sendable {
        public var handle: String
        public var level: String?
        public var points: Int
    }
    public var period: String
    public var topic: String?
    public var entries: [Entry]
}

/// A payout batch.
public struct PayoutResource: ResponseCodable, Sendable {
    public struct Line: Codable, Sendable {
        public var helperId: String
        public var handle: String
        public var points: Int
        public var amount: Double
    }
    public var id: String
    public var periodEnd: Date
    public var createdAt: Date
    public var createdBy: String
    public var currency: String
    public var valuePerPoint: Double
    public var minPoints: Int
    public var totalPoints: Int
    public var totalAmount: Double
    public var lines: [Line]

    /// The resource for a batch.
    public init(_ payout: Payout) {
        id = payout.id
        periodEnd = payout.periodEnd
        createdAt = payout.createdAt
        createdBy = payout.createdBy
        currency = payout.currency
        valuePerPoint = payout.valuePerPoint
        minPoints = payout.minPoints
        totalPoints = payout.totalPoints
        totalAmount = payout.amount(payout.totalPoints)
        lines = payout.lines.map {
            Line(helperId: $0.helperId, handle: $0.handle, points: $0.points, amount: payout.amount($0.points))
        }
    }
}

/// The programme's value by month.
public struct ValueResource: ResponseCodable, Sendable {
    public struct Month: Codable, Sendable {
        public var month: String
        public var resolved: Int
        public var resolvedWithoutStaff: Int
        public var staffCostSaved: Double
        public var volunteerCsat: Double?
        public var staffCsat: Double?
        public var pointsPaid: Int
        public var paidValue: Double
        public var net: Double
        public var currency: String

        init(_ month: ProgrammeValueMonth) {
            self.month = month.tally.month
            resolved = month.tally.resolved
            resolvedWithoutStaff = month.tally.resolvedWithoutStaff
            staffCostSaved = month.staffCostSaved
            volunteerCsat = month.volunteerCsat
            staffCsat = month.staffCsat
            pointsPaid = month.tally.pointsPaid
            paidValue = month.paidValue
            net = month.net
            currency = month.currency
        }
    }
    public var from: Date
    public var to: Date
    public var months: [Month]
}
