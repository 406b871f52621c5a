import Foundation
import PatenCore
import Testing

@Suite("Reading RFC 3339 times and metric periods")
struct RFC3339ParseTests {
    /// 2026-11-23T07:41:56.123Z in milliseconds since 1970.
    let instant: Int64 = 1_795_419_716_123

    @Test("A time with milliseconds, Z or an offset, reads as the same instant")
    func sameInstant() throws {
        for text in [
            "2026-11-23T07:41:56.123Z", "2026-11-23T09:41:56.123+02:00", "2026-11-23T02:11:56.123-05:30",
            "2026-11-23T07:41:56.123+00:00",
        ] {
            let date = try #require(RFC3339.parse(text), "\(text)")
            #expect(date.millisecondsSince1970 == instant, "\(text)")
        }
    }

    @Test("Fractional seconds are optional and keep their milliseconds")
    func fractions() throws {
        #expect(RFC3339.parse("2026-11-23T07:41:56Z")?.millisecondsSince1970 == instant - 123)
        #expect(RFC3339.parse("2026-11-23T07:41:56.5Z")?.millisecondsSince1970 == instant - 123 + 500)
        // What the API writes reads back to the same millisecond.
        let written = RFC3339.format(Date(millisecondsSince1970: instant))
        #expect(RFC3339.parse(written)?.millisecondsSince1970 == instant)
    }

    @Test(
        "Text that is not a full RFC 3339 time is refused",
        arguments: [
            "", "yesterday", "2026-11-23", "2026-11-23T07:41:56", "2026-11-23T07:41Z", "2026-13-01T00:00:00Z",
            "2026-11-23T25:00:00Z", "2026-11-23T07:61:00Z", "1795419716",
        ]
    )
    func refused(text: String) {
        #expect(RFC3339.parse(text) == nil, "\(text)")
    }

    @Test("A date-only bound of a metrics period is that day's midnight UTC, whatever the server's zone")
    func dateOnlyBound() throws {
        #expect(MetricsDesk.periodBound("2026-11-23") == utc("2026-11-23T00:00:00Z"))
        #expect(MetricsDesk.periodBound("2026-11-23T00:00:00+01:00") == utc("2026-11-22T23:00:00Z"))
        #expect(MetricsDesk.periodBound("2026-11-23T07:41:56.123Z")?.millisecondsSince1970 == instant)
        for text in ["23.11.2026", "2026-11", "2026-13-01", "next week", ""] {
            #expect(MetricsDesk.periodBound(text) == nil, "\(text)")
        }
    }

    @Test("A period from one date to the next holds exactly that day: the end is excluded")
    func wholeDay() throws {
        let now = utc("2026-11-30T12:00:00Z")
        let period = try MetricsDesk.period(
            from: MetricsDesk.periodBound("2026-11-23"), to: MetricsDesk.periodBound("2026-11-24"), now: now
        )
        #expect(period.to.timeIntervalSince(period.from) == 86400)
        let contains = { (date: Date) in period.from <= date && date < period.to }
        #expect(contains(utc("2026-11-23T00:00:00Z")))
        #expect(contains(utc("2026-11-23T23:59:59Z")))
        #expect(!contains(utc("2026-11-24T00:00:00Z")))
        // The same date at both ends is an empty period, refused rather than answered with zeros.
        #expect(throws: PatenError.self) {
            try MetricsDesk.period(from: MetricsDesk.periodBound("2026-11-23"), to: MetricsDesk.periodBound("2026-11-23"), now: now)
        }
        // With no bounds, the last 30 days up to now.
        let defaults = try MetricsDesk.period(from: nil, to: nil, now: now)
        #expect(defaults.from == utc("2026-10-31T12:00:00Z") && defaults.to == now)
    }
}
