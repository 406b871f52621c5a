import Foundation

/// Staff opening hours in a time zone, with holidays: the clock that staff targets run on.
///
/// Times are computed through the zone's calendar, so a day on which daylight saving time starts or ends has its
/// real length, and an opening range that spans the change counts the hour that was skipped or repeated correctly.
public struct BusinessCalendar: Sendable, Equatable {
    /// One opening range within a day, in minutes after local midnight (end may be 1440, midnight).
    public struct OpeningRange: Sendable, Equatable {
        public var start: Int
        public var end: Int

        /// Creates a range; `start < end`, both within 0...1440.
        public init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }
    }

    public let timeZone: TimeZone
    /// Opening ranges by weekday, 1 = Sunday ... 7 = Saturday (the Gregorian calendar's numbering).
    public let weekly: [Int: [OpeningRange]]
    /// Local dates (yyyy-MM-dd) on which staff are closed all day.
    public let holidays: Set<String>
    /// The Gregorian calendar in `timeZone`, made once: building one is costly and every computation needs it.
    let calendar: Calendar
    /// Holidays as year * 10000 + month * 100 + day, for lookups without formatting dates.
    let holidayNumbers: Set<Int>
    /// Each local day's opening intervals and the day after it, computed once (see `DayMemo`).
    let days = DayMemo()

    /// A calendar that is always open: business time equals calendar time.
    public static let alwaysOpen = BusinessCalendar(
        timeZone: TimeZone(identifier: "UTC") ?? .current,
        weekly: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, [OpeningRange(start: 0, end: 1440)]) }),
        holidays: []
    )

    public static func == (lhs: BusinessCalendar, rhs: BusinessCalendar) -> Bool {
        lhs.timeZone == rhs.timeZone && lhs.weekly == rhs.weekly && lhs.holidays == rhs.holidays
    }

    /// Creates a calendar.
    public init(timeZone: TimeZone, weekly: [Int: [OpeningRange]], holidays: Set<String>) {
        self.timeZone = timeZone
        self.weekly = weekly
        self.holidays = holidays
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
        self.holidayNumbers = Set(
            holidays.compactMap { day in
                let parts = day.split(separator: "-").compactMap { Int($0) }
                return parts.count == 3 ? parts[0] * 10000 + parts[1] * 100 + parts[2] : nil
            }
        )
    }

    /// The instant that lies `seconds` of opening time after `start`.
    public func add(_ seconds: TimeInterval, to start: Date) -> Date {
        add([seconds], to: start)[0]
    }

    /// The instants that lie each of `offsets` seconds of opening time after `start`, found in one walk over the
    /// opening hours (a warning and a due time share the walk).
    public func add(_ offsets: [TimeInterval], to start: Date) -> [Date] {
        let order = offsets.indices.sorted { offsets[$0] < offsets[$1] }
        var results = offsets.map { $0 <= 0 ? start : start.addingTimeInterval($0) }
        var pending = order.filter { offsets[$0] > 0 }[...]
        var consumed: TimeInterval = 0
        var day = DayMemo.number(localDay(containing: start))
        // Ten years of days is far beyond any target; the bound only guards a calendar with no opening at all.
        for _ in 0..<3660 where !pending.isEmpty {
            let (_, intervals, next) = days.day(day, in: self)
            for interval in intervals where interval.end > start {
                let from = max(interval.start, start)
                let available = interval.end.timeIntervalSince(from)
                while let next = pending.first, offsets[next] - consumed <= available {
                    results[next] = from.addingTimeInterval(offsets[next] - consumed)
                    pending.removeFirst()
                }
                consumed += available
                if pending.isEmpty { break }
            }
            day = next
        }
        return results
    }

    /// Seconds of opening time between two instants (zero when `end` is not after `start`).
    public func businessSeconds(from start: Date, to end: Date) -> TimeInterval {
        guard end > start else { return 0 }
        var total: TimeInterval = 0
        var day = DayMemo.number(localDay(containing: start))
        // A hundred years of days bounds the walk for absurd ranges.
        for _ in 0..<36_600 {
            let (midnight, intervals, next) = days.day(day, in: self)
            guard midnight < end else { break }
            for interval in intervals {
                let from = max(interval.start, start)
                let to = min(interval.end, end)
                if to > from { total += to.timeIntervalSince(from) }
            }
            day = next
        }
        return total
    }

    /// Whether staff are open at the instant.
    public func isOpen(at date: Date) -> Bool {
        openIntervals(on: localDay(containing: date)).contains { $0.start <= date && date < $0.end }
    }

    func localDay(containing date: Date) -> DateComponents {
        calendar.dateComponents([.year, .month, .day], from: date)
    }

    func nextDay(after day: DateComponents) -> DateComponents {
        let noon = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: 12)) ?? Date()
        return localDay(containing: calendar.date(byAdding: .day, value: 1, to: noon) ?? noon)
    }

    /// The opening intervals of a local day as instants.
    func openIntervals(on day: DateComponents) -> [DateInterval] {
        guard let year = day.year, let month = day.month, let dayOfMonth = day.day else { return [] }
        if holidayNumbers.contains(year * 10000 + month * 100 + dayOfMonth) { return [] }
        let calendar = self.calendar
        guard let noon = calendar.date(from: DateComponents(year: year, month: month, day: dayOfMonth, hour: 12)) else {
            return []
        }
        let weekday = calendar.component(.weekday, from: noon)
        return (weekly[weekday] ?? []).compactMap { range in
            guard let open = instant(year, month, dayOfMonth, minute: range.start),
                let close = instant(year, month, dayOfMonth, minute: range.end), close > open
            else { return nil }
            return DateInterval(start: open, end: close)
        }
    }

    private func instant(_ year: Int, _ month: Int, _ day: Int, minute: Int) -> Date? {
        if minute >= 1440 {
            // Midnight at the end of the day is the next day's 00:00.
            guard let today = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: 12)),
                let tomorrow = calendar.date(byAdding: .day, value: 1, to: today)
            else { return nil }
            let next = calendar.dateComponents([.year, .month, .day], from: tomorrow)
            return calendar.date(from: DateComponents(year: next.year, month: next.month, day: next.day, hour: 0, minute: 0))
        }
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: minute / 60, minute: minute % 60))
    }
}

/// Local days' midnights, opening intervals and following days, remembered per calendar. Foundation's calendar
/// arithmetic is by far the costliest part of planning a staff clock, and a sweep that moves thousands of questions
/// to staff at the same moment walks the same few days for each of them. Days are numbered year * 10000 + month
/// * 100 + day, so the walk copies integers, not `DateComponents`. Bounded: forgotten wholesale past 4,096 days.
final class DayMemo: @unchecked Sendable {
    typealias Day = (midnight: Date, intervals: [DateInterval], next: Int)
    private let lock = NSLock()
    private var days: [Int: Day] = [:]

    static func number(_ day: DateComponents) -> Int {
        (day.year ?? 0) * 10000 + (day.month ?? 0) * 100 + (day.day ?? 0)
    }

    /// The day's local midnight, its opening intervals and the number of the local day after it.
    func day(_ number: Int, in calendar: BusinessCalendar) -> Day {
        if let known = lock.withLock({ days[number] }) { return known }
        let components = DateComponents(year: number / 10000, month: number / 100 % 100, day: number % 100)
        let midnight =
            calendar.calendar.date(
                from: DateComponents(year: components.year, month: components.month, day: components.day)
            ) ?? .distantFuture
        let computed = (
            midnight, calendar.openIntervals(on: components), Self.number(calendar.nextDay(after: components))
        )
        lock.withLock {
            if days.count >= 4096 { days.removeAll(keepingCapacity: true) }
            days[number] = computed
        }
        return computed
    }
}
