import Foundation

/// RFC 3339 UTC times with milliseconds (`2026-11-23T07:41:56.123Z`), written by arithmetic: formatting through
/// Foundation's format styles costs tens of microseconds a time, and an export writes millions of them.
public enum RFC3339 {
    /// The instant as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func format(_ date: Date) -> String {
        let ms = date.millisecondsSince1970
        let days = floorDiv(ms, 86_400_000)
        let msOfDay = ms - days * 86_400_000
        let (year, month, day) = civil(fromDays: days)
        guard (0...9999).contains(year) else { return formatAnyYear(year, month, day, msOfDay) }
        // 24 ASCII bytes written in place: lists and exports format several times per row.
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int64, _ width: Int, at offset: Int) {
                var value = value
                for index in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[index] = UInt8(truncatingIfNeeded: 0x30 + value % 10)
                    value /= 10
                }
            }
            put(year, 4, at: 0)
            buffer[4] = 0x2D  // -
            put(month, 2, at: 5)
            buffer[7] = 0x2D
            put(day, 2, at: 8)
            buffer[10] = 0x54  // T
            put(msOfDay / 3_600_000, 2, at: 11)
            buffer[13] = 0x3A  // :
            put(msOfDay / 60_000 % 60, 2, at: 14)
            buffer[16] = 0x3A
            put(msOfDay / 1000 % 60, 2, at: 17)
            buffer[19] = 0x2E  // .
            put(msOfDay % 1000, 3, at: 20)
            buffer[23] = 0x5A  // Z
            return 24
        }
    }

    /// Year, month and day of a count of days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm).
    /// Reads an RFC 3339 time, with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(text, strategy: .iso8601)
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    /// The same layout for a year outside 0...9999 (never stored, but a Date can hold one).
    static func formatAnyYear(_ year: Int64, _ month: Int64, _ day: Int64, _ msOfDay: Int64) -> String {
        var out = ""
        append(&out, year, 4)
        for (separator, value, width) in [
            ("-", month, 2), ("-", day, 2), ("T", msOfDay / 3_600_000, 2), (":", msOfDay / 60_000 % 60, 2),
            (":", msOfDay / 1000 % 60, 2), (".", msOfDay % 1000, 3),
        ] {
            out += separator
            append(&out, value, width)
        }
        return out + "Z"
    }

    static func append(_ out: inout String, _ value: Int64, _ width: Int) {
        let digits = String(value)
        if digits.count < width { out += String(repeating: "0", count: width - digits.count) }
        out += digits
    }
}
