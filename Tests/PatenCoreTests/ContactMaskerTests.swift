import Testing

@testable import PatenCore

@Suite("Contact data masking")
struct ContactMaskerTests {
    let masker = ContactMasker()

    @Test(
        "Emails, phone numbers and account numbers are hidden",
        arguments: [
            ("Write to anna.k+sim@example.co.uk please", "Write to [email hidden] please"),
            ("Call me on +44 7700 900123 tonight", "Call me on [phone hidden] tonight"),
            ("Mobile: 0176-1234 5678", "Mobile: [phone hidden]"),
            ("(030) 123 45 67 is my landline", "[phone hidden] is my landline"),
            ("IBAN DE89 3704 0044 0532 0130 00 for the refund", "IBAN [account hidden] for the refund"),
            ("iban: GB29NWBK60161331926819", "iban: [account hidden]"),
            ("iban de89 3704 0044 0532 0130 00", "iban [account hidden]"),
            ("DE89-3704-0044-0532-0130-00 please", "[account hidden] please"),
            ("0176 / 1234 5678", "[phone hidden]"),
            // Digits of other scripts are digits too.
            ("رقمي ٠١٧٦١٢٣٤٥٦٧٨", "رقمي [phone hidden]"),
        ]
    )
    func masks(input: String, expected: String) {
        #expect(masker.mask(input) == expected)
    }

    @Test(
        "Ordinary text, dates and short numbers are left alone",
        arguments: [
            "Since 2026-11-20 my data stopped",
            "I have 5 GB left and used 120 minutes",
            "Order 12345 arrived",
            "My SIM is a 5G one",
        ]
    )
    func leavesAlone(input: String) {
        #expect(masker.mask(input) == input)
    }

    /// What the regular expressions missed or hid wrongly, in German and English: input, then what a volunteer sees.
    static let table: [(String, String)] = [
        // Card numbers, 13 to 19 digits, Luhn-checked, with any separators.
        ("Meine Karte: 4111 1111 1111 1111, bitte abbuchen", "Meine Karte: [card hidden], bitte abbuchen"),
        ("my card is 4111-1111-1111-1111", "my card is [card hidden]"),
        ("Kreditkarte 4111111111111111 gesperrt?", "Kreditkarte [card hidden] gesperrt?"),
        ("Amex 3782 822463 10005 was charged twice", "Amex [card hidden] was charged twice"),
        ("Visa 4222222222222, 13 digits", "Visa [card hidden], 13 digits"),
        ("Karte 4111\u{2009}1111\u{00A0}1111\u{202F}1111", "Karte [card hidden]"),
        ("card 4111\u{2013}1111\u{2014}1111\u{2212}1111", "card [card hidden]"),
        ("Karte 4111\u{200B}1111\u{200B}1111\u{200B}1111", "Karte [card hidden]"),
        // Sixteen digits that fail the Luhn check are still hidden, as a number.
        ("Referenz 1234 5678 9012 3456", "Referenz [phone hidden]"),
        // Phone numbers with any Unicode space, dash or zero-width character between the digits.
        ("Ruf mich an: 0176\u{00A0}1234\u{00A0}5678", "Ruf mich an: [phone hidden]"),
        ("call 0176\u{2009}1234\u{2009}5678 after six", "call [phone hidden] after six"),
        ("Tel. 0176\u{202F}1234\u{3000}5678", "Tel. [phone hidden]"),
        ("Tel. 0176\u{2010}1234\u{2011}56\u{2012}78", "Tel. [phone hidden]"),
        ("Tel. 0176\u{2015}1234\u{2212}5678", "Tel. [phone hidden]"),
        ("Tel. 0176\u{FE63}1234\u{FF0D}5678", "Tel. [phone hidden]"),
        ("Nummer 0\u{200B}1\u{200C}7\u{200D}6\u{2060}1\u{FEFF}2345678", "Nummer [phone hidden]"),
        ("Handy ０１７６ １２３４ ５６７８", "Handy [phone hidden]"),
        ("Erreichbar unter +49 (0)176 1234 5678 ab 18 Uhr", "Erreichbar unter [phone hidden] ab 18 Uhr"),
        ("oder 0049 176 12345678", "oder [phone hidden]"),
        ("Festnetz +49 30 1234567, Durchwahl -12", "Festnetz [phone hidden], Durchwahl -12"),
        ("reach me at +1 (555) 010-4477", "reach me at [phone hidden]"),
        // E-mail addresses with non-ASCII letters or in full-width forms (compared in their NFKC form).
        ("Schreib an müller@beispiel.de", "Schreib an [email hidden]"),
        ("邮箱 用户@例子.广告 谢谢", "邮箱 [email hidden] 谢谢"),
        ("mail ｍａｘ＠ｅｘａｍｐｌｅ．ｃｏｍ please", "mail [email hidden] please"),
        ("an jürgen.weiß@straße.example, danke", "an [email hidden], danke"),
        ("write to max﹫example.com.", "write to [email hidden]."),
        // IBANs with any separators, in any case.
        ("IBAN DE89 3704 0044 0532 0130 00", "IBAN [account hidden]"),
        ("iban de89-3704-0044-0532-0130-00 bitte", "iban [account hidden] bitte"),
        ("IBAN DE89\u{00A0}3704\u{2011}0044\u{2009}0532\u{200B}0130\u{3000}00", "IBAN [account hidden]"),
        ("Konto ＤＥ８９３７０４００４４０５３２０１３０００", "Konto [account hidden]"),
        ("refund to GB29 NWBK 6016 1331 9268 19 please", "refund to [account hidden] please"),
        ("AT61 1904 3002 3457 3201 und FR14 2004 1010 0505 0001 3M02 606", "[account hidden] und [account hidden]"),
        // Dates, times and ordinary numbers stay readable.
        ("Seit 15.01.2024 kein Netz", "Seit 15.01.2024 kein Netz"),
        ("Since 2026-11-20 10:30 no data", "Since 2026-11-20 10:30 no data"),
        ("Termin am 20.11.2026 um 10:30 Uhr", "Termin am 20.11.2026 um 10:30 Uhr"),
        ("die SMS kam um 10:30:15", "die SMS kam um 10:30:15"),
        ("on 01/15/2024 at 9:05 pm", "on 01/15/2024 at 9:05 pm"),
        ("Bestellung 12345 für 19,99 €, Tarif mit 3 GB", "Bestellung 12345 für 19,99 €, Tarif mit 3 GB"),
        ("order 12345, 3 GB for 9.99 EUR", "order 12345, 3 GB for 9.99 EUR"),
        ("It is at 12 noon, me and 2 friends", "It is at 12 noon, me and 2 friends"),
        // A date next to a number hides the number only.
        ("2026-11-20 10:30 0176 1234 5678", "2026-11-20 10:30 [phone hidden]"),
        ("am 15.01.2024 0176 1234 5678 angerufen", "am 15.01.2024 [phone hidden] angerufen"),
        ("vom 15.01.2024 - 20.01.2024 kein Netz", "vom 15.01.2024 - 20.01.2024 kein Netz"),
        ("since 10:30 0176 1234 5678 is dead", "since 10:30 [phone hidden] is dead"),
        // A date-shaped part of a longer number is part of the number: only a whole token is a date.
        ("Ruf an: 06.12.10.05.25", "Ruf an: [phone hidden]"),
        ("call 06-12-10-05-25 tonight", "call [phone hidden] tonight"),
        ("Nummer 06/12/10/05/25 bitte", "Nummer [phone hidden] bitte"),
        ("Handy 0170 12.03.99 ab 18 Uhr", "Handy [phone hidden] ab 18 Uhr"),
        ("my mobile is 0170-12-03-99", "my mobile is [phone hidden]"),
        ("Tel. 0171-123-10-05-99", "Tel. [phone hidden]"),
        ("call +12.03.99 45", "call [phone hidden]"),
        ("Nummer 0176 1234 5678 15.01.2024", "Nummer [phone hidden]"),
        // Every whitespace character separates digit groups: tabs, line and paragraph separators, line breaks.
        ("Nummer: 0170\t123\t4567", "Nummer: [phone hidden]"),
        ("call 0170\u{2028}123\u{2029}4567", "call [phone hidden]"),
        ("Meine Nummer:\n0170\n123 4567\nDanke", "Meine Nummer:\n[phone hidden]\nDanke"),
        ("my number is 0170\r\n\r\n1234567", "my number is [phone hidden]"),
        ("Handy 0170\u{0085}123\u{000B}4567", "Handy [phone hidden]"),
        ("Karte 4111\t1111\t1111\t1111", "Karte [card hidden]"),
        ("Termine:\n15.01.2024\n20.01.2024 10:30", "Termine:\n15.01.2024\n20.01.2024 10:30"),
        ("IBAN DE89\t3704\t0044\t0532\t0130\t00", "IBAN [account hidden]"),
        ("iban:\nDE89\n3704\n0044\n0532\n0130\n00\nthanks", "iban:\n[account hidden]\nthanks"),
        ("IBAN DE89_3704_0044_0532_0130_00 bitte", "IBAN [account hidden] bitte"),
        ("account GB29/NWBK/6016/1331/9268/19", "account [account hidden]"),
        ("Tel. 0170_123_4567", "Tel. [phone hidden]"),
        // Combining marks and default-ignorable characters on or between digits are invisible.
        (
            "Nummer 0\u{034F}1\u{034F}7\u{034F}0\u{034F}1\u{034F}2\u{034F}3\u{034F}4\u{034F}5\u{034F}6\u{034F}7",
            "Nummer [phone hidden]"
        ),
        ("call 0\u{332}1\u{332}7\u{332}0\u{332} 1\u{332}2\u{332}3\u{332} 4\u{332}5\u{332}6\u{332}7\u{332} now", "call [phone hidden] now"),
        (
            "Handy 0\u{20E3}1\u{20E3}7\u{20E3}0\u{20E3}1\u{20E3}2\u{20E3}3\u{20E3}4\u{20E3}5\u{20E3}6\u{20E3}7\u{20E3}",
            "Handy [phone hidden]"
        ),
        ("keycaps 0\u{FE0F}\u{20E3}1\u{FE0F}\u{20E3}7\u{FE0F}\u{20E3}0\u{FE0F}\u{20E3}1234567", "keycaps [phone hidden]"),
        ("Nummer 0170\u{3164}123\u{3164}4567", "Nummer [phone hidden]"),
        ("IBAN D\u{332}E\u{332}8\u{332}9\u{332} 3704 0044 0532 0130 0\u{332}0\u{332} danke", "IBAN [account hidden] danke"),
        // The local part of an address holds every RFC 5322 atext character.
        ("write to o'brien@example.com", "write to [email hidden]"),
        ("Mail an a!b#c$d%e&f*g+h-i/j=k?l^m_n`o{p|q}r~s@beispiel.de", "Mail an [email hidden]"),
        ("schreib an max=moritz@example.com", "schreib an [email hidden]"),
    ]

    @Test("Cards, Unicode-separated phones, non-ASCII addresses and IBANs are hidden; dates and numbers stay", arguments: table)
    func misses(input: String, expected: String) {
        #expect(masker.mask(input) == expected)
    }

    /// 60 KB messages shaped to make a backtracking pattern take tens of seconds; the scanner reads each once.
    static func repeated(_ unit: String) -> String { String(repeating: unit, count: 60 * 1024 / unit.utf8.count) }
    static let adversarial: [(String, String)] = [
        (repeated("a@"), repeated("a@")),
        (repeated("a.") + "@", repeated("a.") + "@"),
        ("x@" + repeated("a."), "x@" + repeated("a.")),
        (repeated("a") + "@example.com", "[email hidden]"),
        (repeated("1 "), "[phone hidden] "),
        (repeated("1-"), "[phone hidden]-"),
        (repeated("1\u{2009}"), "[phone hidden]\u{2009}"),
        (repeated("1\u{200B}"), "[phone hidden]\u{200B}"),
        (repeated("1\t"), "[phone hidden]\t"),
        (repeated("1\u{332}"), "[phone hidden]"),
        (repeated("06.12."), "[phone hidden]."),
        (repeated("15.01.2024 "), repeated("15.01.2024 ")),
        (repeated("+"), repeated("+")),
        (repeated("(+"), repeated("(+")),
        (repeated("+49 "), repeated("+49 ")),
        (repeated("1"), "[phone hidden]"),
        (repeated("1.1."), "[phone hidden]."),
        (repeated("DE89 "), repeated("DE89 ")),
        (repeated("ｍ＠"), repeated("ｍ＠")),
        (repeated("Ruf an: 0176 1234 5678. "), repeated("Ruf an: [phone hidden]. ")),
    ]

    @Test("Adversarial 60 KB messages are masked correctly", arguments: adversarial)
    func adversarialShapes(input: String, expected: String) {
        #expect(masker.mask(input) == expected)
    }

    @Test("Text with no digit and no @ of any form takes the fast path; any digit or @ form does not")
    func fastPath() {
        #expect(!ContactMasker.mayHoldContactData("Roaming in Spanien geht nicht, bitte helfen!"))
        #expect(!ContactMasker.mayHoldContactData("Roaming ne marche pas"))
        #expect(ContactMasker.mayHoldContactData("max＠example"))
        #expect(ContactMasker.mayHoldContactData("رقمي ٠١٧٦"))
        #expect(ContactMasker.mayHoldContactData("Nummer ０１７６"))
    }
}
