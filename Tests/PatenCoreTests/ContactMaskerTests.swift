import PatenCore
import Testing

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
}
