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

    /// Reads an RFC 3339 time (`2026-11-23T09:41:56.123+02:00`), with or without fractional seconds (kept to the
    /// millisecond); nil for anything else, including a time without its offset or a field out of range.
    public static func parse(_ text: String) -> Date? {
        // Foundation's ISO 8601 parsing with fractions ignored the offset and rolled hour 25 into the next day.
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func number(_ from: Int, _ width: Int) -> Int64? {
            var value: Int64 = 0
            for index in from..<(from + width) {
                guard index < bytes.count, (0x30...0x39).contains(bytes[index]) else { return nil }
                value = value * 10 + Int64(bytes[index] - 0x30)
            }
            return value
        }
        guard let year = number(0, 4), bytes[4] == 0x2D, let month = number(5, 2), bytes[7] == 0x2D,
            let day = number(8, 2), bytes[10] == 0x54 || bytes[10] == 0x74, let hour = number(11, 2), bytes[13] == 0x3A,
            let minute = number(14, 2), bytes[16] == 0x3A, let second = number(17, 2),
            (1...12).contains(month), (1...daysIn(year, month)).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        var millis: Int64 = 0
        if bytes[index] == 0x2E {
            index += 1
            let start = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                if index - start < 3 { millis = millis * 10 + Int64(bytes[index] - 0x30) }
                index += 1
            }
            guard index > start else { return nil }
            for _ in min(index - start, 3)..<3 { millis *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offsetMinutes: Int64 = 0
        if bytes[index] == 0x5A || bytes[index] == 0x7A {
            index += 1
        } else {
            guard bytes[index] == 0x2B || bytes[index] == 0x2D, let hours = number(index + 1, 2),
                index + 3 < bytes.count, bytes[index + 3] == 0x3A, let minutes = number(index + 4, 2), hours < 24,
                minutes < 60
            else { return nil }
            offsetMinutes = (hours * 60 + minutes) * (bytes[index] == 0x2D ? -1 : 1)
            index += 6
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year, month, day)
        let ms = ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + millis
        return Date(millisecondsSince1970: ms)
    }

    /// Days in the month of the year (proleptic Gregorian).
    static func daysIn(_ year: Int64, _ month: Int64) -> Int64 {
        if month == 2 { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28 }
        return [4, 6, 9, 11].contains(month) ? 30 : 31
    }

    /// Days since 1970-01-01 of a civil date (the inverse of `civil(fromDays:)`).
    static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Year, month and day of a count of days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm).

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
