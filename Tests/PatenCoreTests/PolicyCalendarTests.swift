import Foundation
import PatenCore
import Testing

/// A policy as an operator writes one: staff in Berlin open Monday to Friday 08:00-20:00 and Saturday 10:00-16:00,
/// closed on Sunday and on Christmas Day; every priority has its own peer window and staff targets.
enum BerlinPolicy {
    static func json(holidays: [String] = ["2026-12-25"]) -> String {
        let days = holidays.map { "\"\($0)\"" }.joined(separator: ", ")
        return #"""
            {"topics": [{"name": "general", "keywords": []}, {"name": "billing", "keywords": ["invoice"]}],
             "default_topic": "general", "staff_only_topics": ["billing"],
             "critical_keywords": ["fraud"], "languages": ["en"], "default_language": "en",
             "peer_window": {"low": "8h", "normal": "2h", "high": "30m", "critical": "0s"}, "claim_lease": "30m",
             "default_capacity": {"volunteer": 3, "staff": 5, "admin": 5},
             "staff_targets": {
                 "first_response": {"low": "8h", "normal": "4h", "high": "2h", "critical": "1h"},
                 "next_response": {"low": "6h", "normal": "3h", "high": "90m", "critical": "30m"},
                 "resolution": {"low": "3d", "normal": "2d", "high": "1d", "critical": "12h"}},
             "warning_threshold": 0.75,
             "business_hours": {"time_zone": "Europe/Berlin",
                 "weekly": {"monday": ["08:00-20:00"], "tuesday": ["08:00-20:00"], "wednesday": ["08:00-20:00"],
                            "thursday": ["08:00-20:00"], "friday": ["08:00-20:00"], "saturday": ["10:00-16:00"],
                            "sunday": []},
                 "holidays": [\#(days)]}}
            """#
    }

    static func load(holidays: [String] = ["2026-12-25"]) throws -> Policy {
        try PolicyLoader.parse(Data(json(holidays: holidays).utf8), source: "berlin.json")
    }
}

func utc(_ text: String) -> Date { (try? Date(text, strategy: .iso8601)) ?? .distantPast }

@Suite("Staff hours as the policy file states them")
struct PolicyCalendarTests {
    @Test("Staff count as open on weekdays 08:00-20:00 and Saturday 10:00-16:00 Berlin time, never on Sunday")
    func openingHours() throws {
        let hours = try BerlinPolicy.load().businessHours
        // November: Berlin is UTC+1. 2026-11-23 is a Monday, 2026-11-21 a Saturday, 2026-11-22 a Sunday.
        let cases: [(String, Bool)] = [
            ("2026-11-23T06:59:59Z", false), ("2026-11-23T07:00:00Z", true), ("2026-11-23T18:59:59Z", true),
            ("2026-11-23T19:00:00Z", false), ("2026-11-21T08:59:59Z", false), ("2026-11-21T09:00:00Z", true),
            ("2026-11-21T14:00:00Z", true), ("2026-11-21T15:00:00Z", false), ("2026-11-22T07:00:00Z", false),
            ("2026-11-22T11:00:00Z", false), ("2026-11-27T18:30:00Z", true),
        ]
        for (instant, open) in cases {
            #expect(hours.isOpen(at: utc(instant)) == open, "\(instant)")
        }
        // A whole week, Monday to Monday: five days of 12 hours and a Saturday of 6.
        #expect(hours.businessSeconds(from: utc("2026-11-22T23:00:00Z"), to: utc("2026-11-29T23:00:00Z")) == 66 * 3600)
    }

    @Test("A target set on Saturday afternoon runs an hour on Saturday, skips Sunday and ends on Monday morning")
    func saturdayAfternoon() throws {
        let hours = try BerlinPolicy.load().businessHours
        // Saturday 15:00 CET plus two hours: 15:00-16:00, then Monday 08:00-09:00 CET (08:00 UTC).
        #expect(hours.add(2 * 3600, to: utc("2026-11-21T14:00:00Z")) == utc("2026-11-23T08:00:00Z"))
        // Started on Sunday, the clock waits for Monday's opening.
        #expect(hours.add(30 * 60, to: utc("2026-11-22T10:00:00Z")) == utc("2026-11-23T07:30:00Z"))
        #expect(hours.businessSeconds(from: utc("2026-11-22T00:00:00Z"), to: utc("2026-11-22T23:00:00Z")) == 0)
    }

    @Test("On a holiday staff are closed, even on a weekday, and clocks carry over to the next open day")
    func holiday() throws {
        let hours = try BerlinPolicy.load().businessHours
        // Friday 2026-12-25 is the holiday: closed at noon.
        #expect(!hours.isOpen(at: utc("2026-12-25T11:00:00Z")))
        #expect(hours.isOpen(at: utc("2026-12-24T11:00:00Z")))
        // Thursday 19:00 plus two hours: one on Thursday, none on Friday, Saturday 10:00-11:00 CET.
        #expect(hours.add(2 * 3600, to: utc("2026-12-24T18:00:00Z")) == utc("2026-12-26T10:00:00Z"))
        // Without the holiday the same clock ends on Friday at 09:00.
        let noHoliday = try BerlinPolicy.load(holidays: []).businessHours
        #expect(noHoliday.add(2 * 3600, to: utc("2026-12-24T18:00:00Z")) == utc("2026-12-25T08:00:00Z"))
    }

    @Test("Across a clock change, Saturday and Monday hours keep their local times")
    func daylightSaving() throws {
        let hours = try BerlinPolicy.load().businessHours
        // Spring forward on Sunday 2026-03-29: Saturday 15:00 CET plus two hours is Monday 09:00 CEST (07:00 UTC).
        #expect(hours.add(2 * 3600, to: utc("2026-03-28T14:00:00Z")) == utc("2026-03-30T07:00:00Z"))
        #expect(hours.isOpen(at: utc("2026-03-30T06:00:00Z")))
        #expect(!hours.isOpen(at: utc("2026-03-30T05:59:59Z")))
        // Fall back on Sunday 2026-10-25: Saturday 15:00 CEST plus two hours is Monday 09:00 CET (08:00 UTC).
        #expect(hours.add(2 * 3600, to: utc("2026-10-24T13:00:00Z")) == utc("2026-10-26T08:00:00Z"))
        #expect(hours.isOpen(at: utc("2026-10-24T08:00:00Z")))
        #expect(!hours.isOpen(at: utc("2026-10-24T07:59:59Z")))
    }

    @Test(
        "A holiday that is not a real date is refused, naming the file, the key and the problem",
        arguments: ["2026-13-45", "2026-02-30", "2026-00-10", "2026-04-31", "2027-02-29", "2026-12-00"]
    )
    func impossibleHoliday(day: String) throws {
        do {
            _ = try BerlinPolicy.load(holidays: ["2026-12-25", day])
            Issue.record("\(day) loaded as a holiday")
        } catch let error as PatenError {
            #expect(error.kind == .configuration)
            #expect(
                error.message
                    == "berlin.json: key 'business_hours.holidays[1]': '\(day)' is not a day of the calendar; check month and day."
            )
        }
    }

    @Test("Leap days and month ends load as holidays")
    func realDates() throws {
        let hours = try BerlinPolicy.load(holidays: ["2028-02-29", "2026-04-30", "2026-12-31"]).businessHours
        #expect(hours.holidays == ["2028-02-29", "2026-04-30", "2026-12-31"])
        // Tuesday 2028-02-29 is closed; Monday 2028-02-28 is open.
        #expect(!hours.isOpen(at: utc("2028-02-29T11:00:00Z")))
        #expect(hours.isOpen(at: utc("2028-02-28T11:00:00Z")))
    }
}
