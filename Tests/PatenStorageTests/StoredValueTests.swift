import Foundation
import Testing

@testable import PatenStorage

@Suite("Stored values")
struct StoredValueTests {
    @Test("Event data written by hand is JSON that reads back exactly, whatever the characters")
    func eventData() throws {
        let data = ["note": "Quote \" backslash \\ newline \n tab \t bell \u{7} Zoë 🚀", "a": "", "z": "1"]
        let text = StoredValue.json(data)
        #expect(text.hasPrefix("{\"a\":\"\","))
        #expect(try StoredValue.dictionary(text) == data)
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: String])
    }
}
