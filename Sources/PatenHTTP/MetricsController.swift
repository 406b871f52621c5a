import Foundation
import Hummingbird
import PatenCore

/// Programme metrics: the summary and the per-question export (CSV or JSON, streamed page by page).
public struct MetricsController: Sendable {
    let metrics: MetricsDesk

    /// Creates the controller.
    public init(metrics: MetricsDesk) {
        self.metrics = metrics
    }

    /// The summary's body.
    public struct SummaryResource: ResponseCodable, Sendable {
        public var from: Date
        public var to: Date
        public var groupBy: String
        public var groups: [MetricsGroup]
    }

    /// Adds the routes to a group under `/v1`.
    public func addRoutes(to group: RouterGroup<PatenRequestContext>) {
        group.get("metrics/summary") { request, context in
            let viewer = try context.requireIdentity()
            let (from, to) = try period(request)
            let grouping = try request.query("group_by", as: MetricsGrouping.self) ?? .all
            let groups = try await metrics.summary(from: from, to: to, by: grouping, for: viewer)
            return SummaryResource(from: from, to: to, groupBy: grouping.rawValue, groups: groups)
        }
        group.get("metrics/export", use: export)
    }

    @Sendable func export(_ request: Request, context: PatenRequestContext) async throws -> Response {
        try MetricsDesk.requireStaff(try context.requireIdentity())
        let (from, to) = try period(request)
        let format = request.uri.queryParameters.get("format").map { String($0) } ?? "csv"
        guard format == "csv" || format == "json" else {
            throw PatenError.malformed("invalid_query", "Query parameter 'format' must be one of: csv, json.")
        }
        let exporter = MetricsExport(calculator: metrics.calculator, formatTime: APICoding.format)
        let metrics = self.metrics
        var headers = HTTPFields()
        headers[.contentType] = format == "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"paten-questions-\(APIDay.format(from))-\(APIDay.format(to)).\(format)\""
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                var first = true
                try await writer.write(ByteBuffer(string: format == "csv" ? MetricsExport.csvHeader : "["))
                try await metrics.forEachPage(from: from, to: to) { page in
                    var chunk = ""
                    for row in page {
                        if format == "csv" {
                            chunk += exporter.csv(row)
                        } else {
                            chunk += (first ? "\n" : ",\n") + exporter.json(row)
                            first = false
                        }
                    }
                    try await writer.write(ByteBuffer(string: chunk))
                }
                if format == "json" { try await writer.write(ByteBuffer(string: "\n]\n")) }
                try await writer.finish(nil)
            }
        )
    }

    func period(_ request: Request) throws -> (Date, Date) {
        func time(_ name: String) throws -> Date? {
            guard let text = request.uri.queryParameters.get(name).map({ String($0) }) else { return nil }
            if let date = MetricsDesk.periodBound(text) { return date }
            throw PatenError.malformed(
                "invalid_query", "Query parameter '\(name)' must be an RFC 3339 time or a date (YYYY-MM-DD)."
            )
        }
        return try metrics.period(from: try time("from"), to: try time("to"))
    }
}
