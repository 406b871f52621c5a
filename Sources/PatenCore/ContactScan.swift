/// What one scalar is to the scanner.
enum ContactScalarKind: UInt8 {
    case other, digit, asciiLetter, letter, at, dot, plus, open, close, colon, space, dash, slash, underscore
    // Zero-width and other default-ignorable characters; combining marks, which draw on the character before them.
    case invisible, mark
    // The rest of RFC 5322's atext, allowed in an address's local part: ! # $ % & ' * = ? ^ ` { | } ~
    case atext
}

/// One pass over a text: the ranges to hide, in scalar offsets. Hand-written, not regular expressions: see
/// `ContactMasker` for why.
struct ContactScan {
    struct Found {
        var start: Int
        var end: Int
        var mark: String
    }

    private struct Group {
        var start: Int
        var end: Int
        var digits: Int
        // The separators between the previous group and this one.
        var gap: Gap
    }

    private struct Gap {
        var visible = 0
        // One bit per separator kind seen.
        var kinds: UInt32 = 0
        var colon: Bool { kinds & Self.bit(.colon) != 0 }
        // Any whitespace, line breaks included: what ends a date or time token.
        var space: Bool { kinds & Self.bit(.space) != 0 }

        /// The separator when the gap is exactly one ".", "/" or "-", as between a date's parts.
        var dateSeparator: UInt32? {
            guard visible == 1, kinds == Self.bit(.dot) || kinds == Self.bit(.slash) || kinds == Self.bit(.dash) else {
                return nil
            }
            return kinds
        }

        mutating func insert(_ kind: ContactScalarKind) {
            visible += 1
            kinds |= Self.bit(kind)
        }

        static func bit(_ kind: ContactScalarKind) -> UInt32 { 1 << UInt32(kind.rawValue) }
    }

    let text: String
    let scalars: [Unicode.Scalar]
    let kinds: [ContactScalarKind]
    private(set) var emails: [Found] = []
    private(set) var found: [Found] = []

    init(_ text: String) {
        self.text = text
        var scalars: [Unicode.Scalar] = []
        var kinds: [ContactScalarKind] = []
        scalars.reserveCapacity(text.utf8.count)
        kinds.reserveCapacity(text.utf8.count)
        let ascii = Self.asciiKinds
        for scalar in text.unicodeScalars {
            scalars.append(scalar)
            kinds.append(scalar.isASCII ? ascii[Int(scalar.value)] : Self.kind(scalar))
        }
        self.scalars = scalars
        self.kinds = kinds
    }

    // MARK: E-mail addresses

    /// Finds addresses around each `@`: the local part to its left, the domain to its right. Neither part can hold an
    /// `@`, so each scalar is read at most once to the left and once to the right.
    mutating func findEmails() {
        var floor = 0
        for at in kinds.indices where kinds[at] == .at && at >= floor {
            var start = at
            while start > floor, Self.isLocal(kinds[start - 1]) { start -= 1 }
            while start < at, kinds[start] == .dot { start += 1 }
            guard start < at, let end = domainEnd(after: at) else { continue }
            emails.append(Found(start: start, end: end, mark: ContactMasker.emailMark))
            floor = end
        }
    }

    /// The end of the longest valid domain after the `@`: labels of letters, digits and hyphens joined by dots, at
    /// least two labels, the last with a letter and two or more characters.
    private func domainEnd(after at: Int) -> Int? {
        var index = at + 1
        var labels = 0
        var labelLength = 0
        var labelHasLetter = false
        var best: Int?
        func closeLabel(at end: Int) -> Bool {
            guard labelLength > 0 else { return false }
            labels += 1
            if labels >= 2, labelLength >= 2, labelHasLetter { best = end }
            labelLength = 0
            labelHasLetter = false
            return true
        }
        while index < kinds.count {
            switch kinds[index] {
            case .asciiLetter, .letter:
                labelLength += 1
                labelHasLetter = true
            case .digit, .dash, .mark:
                labelLength += 1
            case .invisible:
                break
            case .dot:
                guard closeLabel(at: index) else { return best }
            default:
                _ = closeLabel(at: index)
                return best
            }
            index += 1
        }
        _ = closeLabel(at: index)
        return best
    }

    private static func isLocal(_ kind: ContactScalarKind) -> Bool {
        switch kind {
        case .digit, .asciiLetter, .letter, .dot, .plus, .dash, .slash, .underscore, .atext, .invisible, .mark: true
        default: false
        }
    }

    // MARK: Numbers and IBANs

    /// Walks the text outside the addresses: a word that starts with two letters may be an IBAN; a digit (or a `+` or
    /// `(` before one) starts a run of digit groups, which is read once and hidden as a phone or card number, with the
    /// dates and times it starts with left out.
    mutating func findNumbers() {
        var index = 0
        var emailIndex = 0
        var groups: [Group] = []
        while index < kinds.count {
            let limit = emailIndex < emails.count ? emails[emailIndex].start : kinds.count
            if index >= limit {
                found.append(emails[emailIndex])
                index = emails[emailIndex].end
                emailIndex += 1
                continue
            }
            switch kinds[index] {
            case .asciiLetter where index == 0 || !Self.isAlphanumeric(kinds[index - 1]):
                if let end = ibanEnd(from: index, limit: limit) {
                    found.append(Found(start: index, end: end, mark: ContactMasker.accountMark))
                    index = end
                } else {
                    index += 1
                }
            case .digit, .plus, .open:
                index = scanRun(from: index, limit: limit, groups: &groups)
            default:
                index += 1
            }
        }
    }

    /// Reads one run of digit groups from `start` and records the phone and card numbers in it; returns where the run
    /// ended.
    private mutating func scanRun(from start: Int, limit: Int, groups: inout [Group]) -> Int {
        var first = start
        // A "+" or "(" counts only right before the number: "+49 ...", "(030) ...", "+(49) ...". At most two are
        // looked at, so a long row of them costs no more than the row.
        while first < min(limit, start + 2), kinds[first] == .plus || kinds[first] == .open { first += 1 }
        guard first < limit, kinds[first] == .digit else { return start + 1 }
        groups.removeAll(keepingCapacity: true)
        var index = first
        var gap = Gap()
        while index < limit {
            // One group: digits, with invisible characters and combining marks inside ignored. A mark draws on the
            // digit before it, so it is hidden with it.
            let groupStart = index
            var digits = 0
            var end = index
            while index < limit, kinds[index] == .digit || kinds[index] == .invisible || kinds[index] == .mark {
                if kinds[index] == .digit { digits += 1 }
                if kinds[index] != .invisible { end = index + 1 }
                index += 1
            }
            groups.append(Group(start: groupStart, end: end, digits: digits, gap: gap))
            // The separators up to the next group: at most three visible ones.
            gap = Gap()
            var next = end
            while next < limit, gap.visible <= 3 {
                let kind = kinds[next]
                if kind == .digit { break }
                switch kind {
                // CR LF is one line break.
                case .space where scalars[next] == "\n" && next > end && scalars[next - 1] == "\r":
                    break
                case .space, .dash, .dot, .slash, .underscore, .open, .close, .colon:
                    gap.insert(kind)
                case .invisible, .mark:
                    break
                default:
                    gap.visible = 4
                }
                next += 1
            }
            guard next < limit, kinds[next] == .digit, gap.visible <= 3 else { break }
            index = next
        }
        classify(groups, runStart: start)
        return groups.last.map { max($0.end, start + 1) } ?? start + 1
    }

    /// Leaves the dates and times a run starts with readable and hides the rest of it, as one number, when it has
    /// seven or more digits. Only a whole date or time token counts: digits before it ("0170 12.03.99") or its
    /// separator going on ("06.12.10.05.25") make it part of the number.
    private mutating func classify(_ groups: [Group], runStart: Int) {
        var index = 0
        // "+12.03.99" is a phone number.
        if !kinds[runStart..<groups[0].start].contains(.plus) {
            while index < groups.count, let length = dateOrTimeLength(groups, at: index) { index += length }
        }
        hide(groups[index...], runStart: runStart)
    }

    private mutating func hide(_ segment: ArraySlice<Group>, runStart: Int) {
        guard let first = segment.first, let last = segment.last else { return }
        let digits = segment.reduce(0) { $0 + $1.digits }
        guard digits >= 7 else { return }
        var start = first.start
        // The "+" or "(" the run began with belongs to the number.
        if segment.startIndex == 0 { start = runStart }
        var end = last.end
        var open = 0
        for index in start..<end {
            if kinds[index] == .open { open += 1 } else if kinds[index] == .close { open -= 1 }
        }
        if open > 0, end < kinds.count, kinds[end] == .close { end += 1 }
        let isCard = (13...19).contains(digits) && luhnValid(segment)
        found.append(Found(start: start, end: end, mark: isCard ? ContactMasker.cardMark : ContactMasker.phoneMark))
    }

    private func luhnValid(_ segment: ArraySlice<Group>) -> Bool {
        var sum = 0
        var double = false
        for group in segment.reversed() {
            for index in stride(from: group.end - 1, through: group.start, by: -1) where kinds[index] == .digit {
                var value = digitValue(index)
                if double {
                    value *= 2
                    if value > 9 { value -= 9 }
                }
                sum += value
                double.toggle()
            }
        }
        return sum % 10 == 0
    }

    /// How many groups from `index` form a date (15.01.2024, 01/15/24, 2024-01-15) or a time (10:30, 10:30:15) that is
    /// a token of its own: whitespace or the end of the run after it.
    private func dateOrTimeLength(_ groups: [Group], at index: Int) -> Int? {
        func value(_ group: Group) -> Int {
            var result = 0
            for position in group.start..<group.end where kinds[position] == .digit {
                result = result * 10 + digitValue(position)
            }
            return result
        }
        func token(_ length: Int) -> Int? {
            index + length == groups.count || groups[index + length].gap.space ? length : nil
        }
        let group = groups[index]
        if index + 1 < groups.count, groups[index + 1].gap.visible == 1, groups[index + 1].gap.colon,
            (1...2).contains(group.digits), groups[index + 1].digits == 2, value(group) <= 24, value(groups[index + 1]) <= 59
        {
            let third = index + 2 < groups.count ? groups[index + 2] : nil
            if let third, third.gap.visible == 1, third.gap.colon, third.digits == 2, value(third) <= 59 { return token(3) }
            return token(2)
        }
        // "12.03.1987.654" and "06-12-10-05-25" are numbers, not dates: the token must end after the third group.
        guard index + 2 < groups.count, let separator = groups[index + 1].gap.dateSeparator,
            groups[index + 2].gap.dateSeparator == separator, token(3) != nil
        else { return nil }
        let (a, b, c) = (groups[index], groups[index + 1], groups[index + 2])
        func year(_ group: Group) -> Bool { group.digits == 2 || (group.digits == 4 && (1900...2099).contains(value(group))) }
        func day(_ group: Group) -> Bool { (1...2).contains(group.digits) && (1...31).contains(value(group)) }
        func month(_ group: Group) -> Bool { (1...2).contains(group.digits) && (1...12).contains(value(group)) }
        if a.digits == 4, year(a), month(b), day(c) { return 3 }
        if year(c), (day(a) && month(b)) || (month(a) && day(b)) { return 3 }
        return nil
    }

    /// The end of an IBAN starting at `start`: a known country code, two check digits and the account, in groups
    /// separated by up to two whitespace characters, dashes, dots, slashes or underscores; valid by ISO 7064 mod 97
    /// (or, for a mistyped one, all digits at the country's length).
    private func ibanEnd(from start: Int, limit: Int) -> Int? {
        var second = start + 1
        while second < limit, kinds[second] == .invisible || kinds[second] == .mark { second += 1 }
        guard second < limit, kinds[second] == .asciiLetter else { return nil }
        let country = (UInt64(Self.upper(fold(scalars[start]))), UInt64(Self.upper(fold(scalars[second]))))
        guard let length = Self.ibanLengths[UInt16(country.0) << 8 | UInt16(country.1)] else { return nil }
        // Read once, without buffers, exactly as many characters as the country's IBANs have; the account's
        // remainder mod 97 grows character by character.
        var count = 2
        var check: UInt64 = 0
        // Reduced mod 97 only when it grows large: division is the costly step.
        var remainder: UInt64 = 0
        var digitsOnly = true
        var index = second + 1
        var gap = 0
        while index < limit, count < length {
            let kind = kinds[index]
            if kind == .digit || kind == .asciiLetter {
                // The check digits come first; most words stop here.
                if count < 4, kind != .digit { return nil }
                let value = kind == .digit ? UInt64(digitValue(index)) : UInt64(Self.upper(fold(scalars[index]))) &- 55
                guard value < 36 else { return nil }
                count += 1
                if count <= 4 {
                    check = check * 10 + value
                } else {
                    remainder = remainder * (value < 10 ? 10 : 100) + value
                    if remainder >= 1 << 56 { remainder %= 97 }
                    digitsOnly = digitsOnly && value < 10
                }
                gap = 0
            } else if kind == .space || kind == .dash || kind == .dot || kind == .slash || kind == .underscore {
                gap += 1
                if gap > 2 { return nil }
            } else if kind != .invisible && kind != .mark {
                return nil
            }
            index += 1
        }
        // Marks on the last character are hidden with it.
        while index < limit, kinds[index] == .mark { index += 1 }
        // A letter or digit right after the last character continues a word: no IBAN ends there.
        guard count == length, index >= limit || !Self.isAlphanumeric(kinds[index]) else { return nil }
        var total = (remainder % 97 * 100 + country.0 - 55) % 97
        total = (total * 100 + country.1 - 55) % 97
        total = (total * 100 + check) % 97
        // A mistyped IBAN of all digits is hidden too.
        return total == 1 || digitsOnly ? index : nil
    }

    /// IBAN lengths by country (ISO 13616 registry), keyed by the two ASCII letters.
    private static let ibanLengths: [UInt16: Int] = {
        let registry = """
            AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 EE20 EG29
            ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28
            LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 QA29
            RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30
            """
        var lengths: [UInt16: Int] = [:]
        for entry in registry.split(whereSeparator: \.isWhitespace) {
            let bytes = Array(entry.utf8)
            lengths[UInt16(bytes[0]) << 8 | UInt16(bytes[1])] = Int(String(entry.dropFirst(2)))
        }
        return lengths
    }()

    // MARK: Output

    /// The text with each found range replaced by its mark: the parts between are copied as UTF-8 bytes.
    func masked() -> String {
        if let result = text.utf8.withContiguousStorageIfAvailable(masked(utf8:)) { return result }
        return Array(text.utf8).withUnsafeBufferPointer(masked(utf8:))
    }

    private func masked(utf8: UnsafeBufferPointer<UInt8>) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(utf8.count)
        var scalar = 0
        var offset = 0
        var copied = 0
        for range in found {
            while scalar < range.start {
                offset += UTF8.width(scalars[scalar])
                scalar += 1
            }
            result.append(contentsOf: utf8[copied..<offset])
            result.append(contentsOf: range.mark.utf8)
            while scalar < range.end {
                offset += UTF8.width(scalars[scalar])
                scalar += 1
            }
            copied = offset
        }
        result.append(contentsOf: utf8[copied...])
        return String(decoding: result, as: UTF8.self)
    }

    // MARK: Characters

    private func digitValue(_ index: Int) -> Int {
        let scalar = scalars[index]
        if scalar.isASCII { return Int(scalar.value) - 0x30 }
        return Int(scalar.properties.numericValue ?? 0)
    }

    private func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        (0xFF01...0xFF5E).contains(scalar.value) ? Unicode.Scalar(scalar.value - 0xFEE0) ?? scalar : scalar
    }

    private static func upper(_ scalar: Unicode.Scalar) -> UInt8 {
        let byte = UInt8(truncatingIfNeeded: scalar.value)
        return byte >= 0x61 ? byte - 0x20 : byte
    }

    // A mark continues the word of the character it draws on.
    private static func isAlphanumeric(_ kind: ContactScalarKind) -> Bool {
        kind == .digit || kind == .asciiLetter || kind == .letter || kind == .mark
    }

    /// The kinds of the 128 ASCII scalars, looked up instead of computed: most text is ASCII.
    private static let asciiKinds: [ContactScalarKind] = (0..<128).map { kind(Unicode.Scalar(UInt8($0))) }

    static func kind(_ scalar: Unicode.Scalar) -> ContactScalarKind {
        switch scalar.value {
        case 0x30...0x39: return .digit
        case 0x41...0x5A, 0x61...0x7A: return .asciiLetter
        case 0x40: return .at
        case 0x2E: return .dot
        case 0x2B: return .plus
        case 0x28: return .open
        case 0x29: return .close
        case 0x3A: return .colon
        case 0x20, 0x09...0x0D: return .space
        case 0x2D: return .dash
        case 0x2F: return .slash
        case 0x5F: return .underscore
        case 0x21, 0x23...0x27, 0x2A, 0x3D, 0x3F, 0x5E, 0x60, 0x7B...0x7E: return .atext
        case 0..<0x80: return .other
        // NFKC forms: full-width and small "@", "." and its ideographic forms (IDNA's label separators).
        case 0xFF20, 0xFE6B: return .at
        case 0xFF0E, 0xFE52, 0x3002, 0xFF61: return .dot
        case 0xFF01...0xFF5E: return kind(Unicode.Scalar(scalar.value - 0xFEE0) ?? scalar)
        case 0xFE63, 0x2212: return .dash
        default: break
        }
        let properties = scalar.properties
        if let type = properties.numericType, type == .decimal || type == .digit,
            let value = properties.numericValue, value >= 0, value <= 9, value == Double(Int(value))
        {
            return .digit
        }
        // Default-ignorable before letters: the Hangul fillers are letters that draw nothing.
        if properties.isDefaultIgnorableCodePoint { return .invisible }
        // Every White_Space character: Unicode spaces, U+0085 and the line and paragraph separators.
        if properties.isWhitespace { return .space }
        switch properties.generalCategory {
        case .dashPunctuation: return .dash
        case .format: return .invisible
        case .nonspacingMark, .spacingMark, .enclosingMark: return .mark
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        default: return .other
        }
    }
}
