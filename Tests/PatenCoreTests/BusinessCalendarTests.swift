import Foundation
import PatenCore
import Testing

@Suite("Business-hours arithmetic")
struct BusinessCalendarTests {
    let berlin = TimeZone(identifier: "Europe/Berlin") ?? .gmt

    /// Monday to Friday 09:00-17:00 in Berlin, closed on Christmas Day 2026.
    var officeHours: BusinessCalendar {
        let day = [BusinessCalendar.OpeningRange(start: 9 * 60, end: 17 * 60)]
        return BusinessCalendar(
            timeZone: berlin, weekly: [2: day, 3: day, 4: day, 5: day, 6: day], holidays: ["2026-12-25"]
        )
    }

    /// Open all day, every day, in Berlin: business time is wall-clock time.
    var allDay: BusinessCalendar {
        let day = [BusinessCalendar.OpeningRange(start: 0, end: 1440)]
        return BusinessCalendar(timeZone: berlin, weekly: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, day) }), holidays: [])
    }

    func utc(_ text: String) -> Date { (try? Date(text, strategy: .iso8601)) ?? .distantPast }

    @Test("Two hours from Friday 16:00 end on Monday 10:00, skipping the weekend")
    func weekend() {
        // 2026-11-20 is a Friday; Berlin is UTC+1 in November.
        let due = officeHours.add(2 * 3600, to: utc("2026-11-20T15:00:00Z"))
        #expect(due == utc("2026-11-23T09:00:00Z"))
        #expect(officeHours.businessSeconds(from: utc("2026-11-20T15:00:00Z"), to: due) == 2 * 3600)
    }

    @Test("A holiday is skipped like a weekend day")
    func holiday() {
        // Thursday 2026-12-24 16:00 plus two hours: Friday the 25th is a holiday, so Monday the 28th at 10:00.
        let due = officeHours.add(2 * 3600, to: utc("2026-12-24T15:00:00Z"))
        #expect(due == utc("2026-12-28T09:00:00Z"))
    }

    @Test("Time outside opening hours does not count; a start before opening begins at opening")
    func outsideHours() {
        let due = officeHours.add(30 * 60, to: utc("2026-11-23T05:00:00Z"))
        #expect(due == utc("2026-11-23T08:30:00Z"))
        #expect(officeHours.isOpen(at: utc("2026-11-23T08:30:00Z")))
        #expect(!officeHours.isOpen(at: utc("2026-11-22T10:00:00Z")))
    }

    @Test("Spring forward: the last Sunday of March 2026 has 23 hours, and opening times keep their local hour")
    func springForward() {
        #expect(allDay.businessSeconds(from: utc("2026-03-28T23:00:00Z"), to: utc("2026-03-29T22:00:00Z")) == 23 * 3600)
        // Friday 2026-03-27 16:00 CET plus two office hours: Monday 10:00 CEST, which is 08:00 UTC.
        #expect(officeHours.add(2 * 3600, to: utc("2026-03-27T15:00:00Z")) == utc("2026-03-30T08:00:00Z"))
        // 24 hours of always-open time from Saturday noon land at Sunday 13:00 local: the skipped hour is not time.
        #expect(allDay.add(24 * 3600, to: utc("2026-03-28T11:00:00Z")) == utc("2026-03-29T11:00:00Z"))
    }

    @Test("Fall back: the last Sunday of October 2026 has 25 hours")
    func fallBack() {
        #expect(allDay.businessSeconds(from: utc("2026-10-24T22:00:00Z"), to: utc("2026-10-25T23:00:00Z")) == 25 * 3600)
        // Friday 2026-10-23 16:00 CEST plus two office hours: Monday 10:00 CET, which is 09:00 UTC.
        #expect(officeHours.add(2 * 3600, to: utc("2026-10-23T14:00:00Z")) == utc("2026-10-26T09:00:00Z"))
    }

    @Test("An opening range on a DST Sunday counts the real hours; a range can end at midnight")
    func rangesAcrossTheChange() {
        let night = BusinessCalendar(
            timeZone: berlin, weekly: [1: [BusinessCalendar.OpeningRange(start: 60, end: 240)]], holidays: []
        )
        // 01:00-04:00 local: two real hours when clocks spring forward, four when they fall back.
        #expect(night.businessSeconds(from: utc("2026-03-28T12:00:00Z"), to: utc("2026-03-29T12:00:00Z")) == 2 * 3600)
        #expect(night.businessSeconds(from: utc("2026-10-24T12:00:00Z"), to: utc("2026-10-25T12:00:00Z")) == 4 * 3600)
        #expect(night.add(3 * 3600, to: utc("2026-10-24T12:00:00Z")) == utc("2026-10-25T02:00:00Z"))
        let lateSaturday = BusinessCalendar(
            timeZone: berlin, weekly: [7: [BusinessCalendar.OpeningRange(start: 20 * 60, end: 1440)]], holidays: []
        )
        // Saturday 2026-11-21 20:00-24:00 CET is 19:00-23:00 UTC.
        #expect(lateSaturday.add(4 * 3600, to: utc("2026-11-21T00:00:00Z")) == utc("2026-11-21T23:00:00Z"))
    }

    @Test("A bad opening range in a policy names its key")
    func policyCalendar() throws {
        let document = #"""
            {"topics": [{"name": "general", "keywords": []}], "default_topic": "general", "staff_only_topics": [],
             "critical_keywords": [], "languages": ["en"], "default_language": "en",
             "peer_window": {"low": "1h", "normal": "1h", "high": "1h", "critical": "0s"}, "claim_lease": "30m",
             "default_capacity": {"volunteer": 1, "staff": 1, "admin": 1},
             "staff_targets": {"first_response": {"low": "1h", "normal": "1h", "high": "1h", "critical": "1h"},
                               "next_response": {"low": "1h", "normal": "1h", "high": "1h", "critical": "1h"},
                               "resolution": {"low": "1h", "normal": "1h", "high": "1h", "critical": "1h"}},
             "warning_threshold": 0.8,
             "business_hours": {"time_zone": "Europe/Berlin", "weekly": {"monday": ["17:00-09:00"]}, "holidays": []}}
            """#
        do {
            _ = try PolicyLoader.parse(Data(document.utf8), source: "p.json")
            Issue.record("expected an error")
        } catch let error as PatenError {
            #expect(error.message.contains("key 'business_hours.weekly.monday[0]'"))
        }
    }
}

@Suite("Business-hours arithmetic, several offsets")
struct BusinessCalendarOffsetsTests {
    @Test("One walk gives the same instants as separate additions, in any order of offsets")
    func sameAsSeparate() {
        let berlin = TimeZone(identifier: "Europe/Berlin") ?? .gmt
        let day = [BusinessCalendar.OpeningRange(start: 9 * 60, end: 12 * 60), BusinessCalendar.OpeningRange(start: 13 * 60, end: 17 * 60)]
        let calendar = BusinessCalendar(timeZone: berlin, weekly: [2: day, 3: day, 4: day, 5: day, 6: day], holidays: ["2026-12-25"])
        let start = Date(timeIntervalSince1970: 1_797_000_000)
        let offsets: [TimeInterval] = [40 * 3600, 0, 3600, 11.5 * 3600, 7 * 3600, 7 * 3600 + 1]
        let together = calendar.add(offsets, to: start)
        #expect(together == offsets.map { calendar.add($0, to: start) })
        #expect(together[1] == start)
    }
}
