import Foundation
import PatenCore
import Testing

@Suite("Metrics arithmetic")
struct MetricsCalculatorTests {
    let start = Date(timeIntervalSince1970: 1_790_000_000)

    func row(
        _ id: String, firstResponse: Double?, resolution: Double?, staffReplies: Int = 0, score: Int? = nil,
        escalations: [String] = [], topic: String = "general", resolver: String? = "vera"
    ) -> QuestionMetrics {
        QuestionMetrics(
            id: id, createdAt: start, channel: "api", topic: topic, language: "en", priority: .normal, tier: .volunteer,
            state: resolution == nil ? .open : .resolved, customerName: "C",
            firstResponseAt: firstResponse.map { start.addingTimeInterval($0) },
            resolvedAt: resolution.map { start.addingTimeInterval($0) }, resolverHandle: resolution == nil ? nil : resolver,
            staffReplies: staffReplies, escalationReasons: escalations, ratingScore: score
        )
    }

    @Test("Median, p90 and mean follow their definitions")
    func stats() {
        #expect(DurationStats([]) == DurationStats([]))
        #expect(DurationStats([]).median == nil)
        let odd = DurationStats([30, 10, 20])
        #expect(odd.median == 20 && odd.mean == 20 && odd.p90 == 30)
        let even = DurationStats([10, 20, 30, 40])
        #expect(even.median == 25)
        let ten = DurationStats((1...10).map(Double.init))
        #expect(ten.p90 == 9)
        #expect(ten.mean == 5.5)
    }

    @Test("A hand-built set of questions gives the known figures")
    func summary() {
        let rows = [
            row("a", firstResponse: 60, resolution: 600, score: 5),
            row("b", firstResponse: 120, resolution: 1200, staffReplies: 1, score: 2, escalations: ["low_rating"]),
            row("c", firstResponse: 180, resolution: 300, score: 4),
            row("d", firstResponse: 240, resolution: nil, escalations: ["peer_window_expired"]),
            row("e", firstResponse: nil, resolution: nil),
        ]
        let groups = MetricsCalculator(calendar: .alwaysOpen).summarize(rows, by: .all)
        #expect(groups.count == 1)
        let all = groups[0]
        #expect(all.questions == 5 && all.resolved == 3 && all.escalated == 2)
        #expect(all.firstResponse.median == 150)
        #expect(all.firstResponse.p90 == 240)
        #expect(all.firstResponse.mean == 150)
        #expect(all.resolution.median == 600)
        #expect(all.firstResponseBusiness.median == 150)
        #expect(all.peerShare == 2.0 / 3.0)
        #expect(all.escalationRate == 0.4)
        #expect(all.ratings == 3)
        #expect(all.csat == 2.0 / 3.0)
        #expect(all.meanScore == 11.0 / 3.0)
        #expect(all.ratingResponseRate == 1)
    }

    @Test("Grouping splits by the key and orders groups")
    func grouping() {
        let rows = [
            row("a", firstResponse: 10, resolution: 20, topic: "roaming"),
            row("b", firstResponse: 30, resolution: 40, topic: "device"),
            row("c", firstResponse: 50, resolution: nil, topic: "roaming"),
        ]
        let byTopic = MetricsCalculator(calendar: .alwaysOpen).summarize(rows, by: .topic)
        #expect(byTopic.map(\.key) == ["device", "roaming"])
        #expect(byTopic[1].questions == 2)
        #expect(byTopic[1].firstResponse.median == 30)
        let byHelper = MetricsCalculator(calendar: .alwaysOpen).summarize(rows, by: .helper)
        #expect(byHelper.map(\.key) == ["(unresolved)", "vera"])
    }

    @Test("CSV is RFC 4180: commas, quotes, newlines and non-ASCII survive a round trip")
    func csvEscaping() {
        var tricky = row("q_1", firstResponse: 1.5, resolution: 2, score: 3)
        tricky.customerName = "Zoë \"Zee\" Müller, Jr."
        tricky.ratingComment = "Line one\nline two, with a comma"
        tricky.resolverHandle = "jörg"
        tricky.topic = "=HYPERLINK(\"x\")"
        tricky.language = "Windows\r\nline"
        let export = MetricsExport(calculator: MetricsCalculator(calendar: .alwaysOpen)) { _ in "T" }
        let line = export.csv(tricky)
        #expect(line.hasSuffix("\r\n"))
        #expect(line.contains("\"Zoë \"\"Zee\"\" Müller, Jr.\""))
        #expect(line.contains("\"Line one\nline two, with a comma\""))
        #expect(line.contains(",jörg,"))
        #expect(line.contains(",1.500,"))
        let fields = Self.parseCSV(MetricsExport.csvHeader + line)
        #expect(fields.count == 2)
        #expect(fields[0] == MetricsExport.columns)
        let record = Dictionary(uniqueKeysWithValues: zip(fields[0], fields[1]))
        #expect(record["customer_name"] == "Zoë \"Zee\" Müller, Jr.")
        #expect(record["rating_comment"] == "Line one\nline two, with a comma")
        #expect(record["rating_score"] == "3")
        #expect(record["resolved_by_peers"] == "true")
        #expect(record["topic"] == "'=HYPERLINK(\"x\")")
        #expect(record["language"] == "Windows\r\nline")
    }

    @Test("JSON rows are valid JSON with typed values")
    func jsonRow() throws {
        var tricky = row("q_1", firstResponse: 60, resolution: nil)
        tricky.customerName = "A \"quoted\"\tname\u{1}"
        let export = MetricsExport(calculator: MetricsCalculator(calendar: .alwaysOpen)) { _ in "T" }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(export.json(tricky).utf8)) as? [String: Any])
        #expect(object["customer_name"] as? String == "A \"quoted\"\tname\u{1}")
        #expect(object["first_response_seconds"] as? Int == 60)
        #expect(object["resolved_at"] is NSNull)
        #expect(object["escalated"] as? Bool == false)
    }

    /// A small RFC 4180 reader for the round trip.
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if quoted {
                if character == "\"" {
                    if index + 1 < characters.count && characters[index + 1] == "\"" {
                        field.append("\"")
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                record.append(field)
                field = ""
            } else if character == "\r\n" || character == "\n" {
                record.append(field)
                records.append(record)
                record = []
                field = ""
            } else {
                field.append(character)
            }
            index += 1
        }
        characters.removeAll()
        return records
    }
}
