import Foundation
import PatenCore
import Synchronization

/// The overview's charts: the metrics summary by day for the last `days` days, computed at most once per `maxAge`
/// for the whole process and served from memory, so an overview never reads the period's questions itself. While a
/// fresh summary is computed the previous one is shown (only the very first requests wait for it, sharing one
/// computation). A summary that took long is kept longer: at least 20 times its computing time, so refreshing costs
/// at most 5 % of one core however busy the period was (at 1,000,000 questions in 14 days: 15 s, kept 5 minutes).
public final class ConsoleCharts: Sendable {
    /// Days shown.
    public static let days = 14

    struct Cached {
        var groups: [MetricsGroup]
        var at: Date
        var from: Date
        /// How long computing it took.
        var took: TimeInterval
    }

    let metrics: MetricsDesk
    let clock: any Clock
    let maxAge: TimeInterval
    private let cached = Mutex<Cached?>(nil)
    private let refreshing = Atomic<Bool>(false)
    private let first = Mutex<Task<Cached, any Error>?>(nil)

    /// Creates the cache.
    public init(metrics: MetricsDesk, clock: any Clock, maxAge: TimeInterval = 60) {
        self.metrics = metrics
        self.clock = clock
        self.maxAge = maxAge
    }

    /// The summary by day and when it was computed; refreshed in the background once older than `maxAge`.
    func summary(for viewer: Helper) async throws -> (groups: [MetricsGroup], at: Date, from: Date) {
        let now = clock.now()
        if let current = cached.withLock({ $0 }) {
            if now.timeIntervalSince(current.at) > max(maxAge, 20 * current.took),
                refreshing.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
            {
                Task.detached { [self] in
                    defer { refreshing.store(false, ordering: .releasing) }
                    _ = try? await compute(for: viewer)
                }
            }
            return (current.groups, current.at, current.from)
        }
        // The first requests share one computation.
        let task = first.withLock { first -> Task<Cached, any Error> in
            if let first { return first }
            let task = Task { try await compute(for: viewer) }
            first = task
            return task
        }
        do {
            let fresh = try await task.value
            return (fresh.groups, fresh.at, fresh.from)
        } catch {
            first.withLock { $0 = nil }
            throw error
        }
    }

    private func compute(for viewer: Helper) async throws -> Cached {
        let now = clock.now()
        let today = Calendar.utc.startOfDay(for: now)
        let from = today.addingTimeInterval(-Double(Self.days - 1) * 86400)
        let started = ContinuousClock.now
        let groups = try await metrics.summary(from: from, to: now, by: .day, for: viewer)
        let value = Cached(groups: groups, at: now, from: from, took: (ContinuousClock.now - started).timeInterval)
        cached.withLock { $0 = value }
        return value
    }

    // MARK: SVG

    /// One day's values.
    struct Point {
        var day: String
        var values: [Double?]
    }

    /// The days of the period with each group's values (nil where a day has none).
    static func points(_ groups: [MetricsGroup], from: Date, _ value: (MetricsGroup) -> [Double?]) -> [Point] {
        let byDay = Dictionary(uniqueKeysWithValues: groups.map { ($0.key, $0) })
        return (0..<days).map { offset in
            let day = APIDay.format(from.addingTimeInterval(Double(offset) * 86400))
            guard let group = byDay[day] else { return Point(day: day, values: [nil, nil]) }
            return Point(day: day, values: value(group))
        }
    }

    static let width = 360.0
    static let height = 170.0
    static let left = 44.0
    static let bottom = 22.0
    static let top = 8.0

    /// A line chart of two series (median and 90th percentile of first response, in minutes).
    static func lines(_ points: [Point], label: String) -> String {
        let maximum = max(1, points.flatMap { $0.values.compactMap { $0 } }.max() ?? 1)
        let scale = niceCeiling(maximum)
        var svg = frame(points, scale: scale, label: label, format: { minutesLabel($0) })
        for (series, name) in [(0, "p50"), (1, "p90")] {
            let coordinates = points.enumerated().compactMap { index, point -> (Double, Double)? in
                guard let value = point.values[series] else { return nil }
                return (x(index, count: points.count), y(value, scale: scale))
            }
            if coordinates.count > 1 {
                let path = coordinates.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
                svg += "<polyline class=\"\(name)\" points=\"\(path)\"/>"
            }
            for (cx, cy) in coordinates {
                svg += "<circle class=\"dot\(name.dropFirst())\" " + String(format: "cx=\"%.1f\" cy=\"%.1f\"", cx, cy) + " r=\"2.5\"/>"
            }
        }
        svg += "<text x=\"\(Int(left + 4))\" y=\"\(Int(top + 10))\" class=\"legend\">— median (blue), 90th percentile (orange)</text>"
        return svg + "</svg>"
    }

    /// A bar chart of one share per day (0 to 1, shown as per cent).
    static func bars(_ points: [Point], label: String) -> String {
        var svg = frame(points, scale: 1, label: label, format: { "\(Int(($0 * 100).rounded()))%" })
        let slot = (width - left - 8) / Double(points.count)
        for (index, point) in points.enumerated() {
            guard let value = point.values[0] else { continue }
            let barHeight = (height - bottom - top) * value
            svg += String(
                format: "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%@: %d%%</title></rect>",
                left + Double(index) * slot + slot * 0.15, height - bottom - barHeight, slot * 0.7, barHeight,
                point.day as NSString, Int((value * 100).rounded())
            )
        }
        return svg + "</svg>"
    }

    private static func frame(_ points: [Point], scale: Double, label: String, format: (Double) -> String) -> String {
        var svg = """
            <svg class="chart" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="\(label)" \
            xmlns="http://www.w3.org/2000/svg" data-points="\(points.filter { $0.values.contains { $0 != nil } }.count)">
            """
        for step in 0...4 {
            let value = scale * Double(step) / 4
            let yValue = y(value, scale: scale)
            svg += String(format: "<line class=\"grid\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>", left, yValue, width - 8, yValue)
            svg += String(
                format: "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%@</text>", left - 4, yValue + 3, format(value) as NSString)
        }
        svg += String(
            format: "<line class=\"axis\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>", left, height - bottom, width - 8,
            height - bottom)
        for (index, point) in points.enumerated() where index % 2 == (points.count - 1) % 2 {
            svg += String(
                format: "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%@</text>", x(index, count: points.count),
                height - 6, String(point.day.suffix(5)) as NSString
            )
        }
        return svg
    }

    private static func x(_ index: Int, count: Int) -> Double {
        let slot = (width - left - 8) / Double(count)
        return left + slot * (Double(index) + 0.5)
    }

    private static func y(_ value: Double, scale: Double) -> Double {
        height - bottom - (height - bottom - top) * min(1, value / scale)
    }

    /// 1, 2 or 5 times a power of ten, at least `value`.
    static func niceCeiling(_ value: Double) -> Double {
        let power = pow(10, floor(log10(value)))
        for step in [1.0, 2, 5, 10] where step * power >= value { return step * power }
        return 10 * power
    }

    static func minutesLabel(_ minutes: Double) -> String {
        if minutes >= 120 { return "\(Int((minutes / 60).rounded()))h" }
        if minutes >= 10 || minutes == minutes.rounded() { return "\(Int(minutes.rounded()))m" }
        return minutes >= 1 ? String(format: "%.1fm", minutes) : "\(Int((minutes * 60).rounded()))s"
    }
}

extension Calendar {
    /// The Gregorian calendar in UTC, for day boundaries as metrics draw them.
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        return calendar
    }()
}
