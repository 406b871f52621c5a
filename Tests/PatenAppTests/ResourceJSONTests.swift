import Foundation
import Hummingbird
import HummingbirdTesting
import PatenCore
import Testing

@testable import PatenHTTP

@Suite("Question resources written by hand")
struct ResourceJSONTests {
    static let at = Date(timeIntervalSince1970: 1_795_000_000.125)  // milliseconds that a Double holds exactly

    static func question(_ id: String, holder: String?, subject: String) -> QuestionResource {
        QuestionResource(
            Question(
                id: id, subject: subject, customer: Customer(id: "c\"1\\", name: "Ann \u{1}Müller / ☃"), channel: "api",
                topic: "roaming", language: "de", priority: .high, tier: .volunteer, state: holder == nil ? .open : .claimed,
                holderId: holder, leaseExpiresAt: holder == nil ? nil : at.addingTimeInterval(1800),
                peerDeadlineAt: at.addingTimeInterval(7200), createdBy: "h_admin", createdAt: at, updatedAt: at
            ),
            handles: holder.map { [$0: "vera"] } ?? [:]
        )
    }

    /// Both documents parsed, so key order and escaping style do not matter, only the content.
    static func parsed(_ text: String) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary)
    }

    @Test("Say exactly what JSONEncoder says, with and without the optional fields, and with text that needs escaping")
    func sameDocument() throws {
        let questions = [
            Self.question("q_1", holder: nil, subject: "Line one\nline \"two\"\t\\ end"),
            Self.question("q_2", holder: "h_vera", subject: "Plain"),
        ]
        for question in questions {
            let encoded = String(decoding: try APICoding.encoder.encode(question), as: UTF8.self)
            #expect(try Self.parsed(question.json) == Self.parsed(encoded))
        }
        for cursor in [nil, "abc=="] as [String?] {
            let page = QuestionListResource(questions: questions, nextCursor: cursor)
            let encoded = String(decoding: try APICoding.encoder.encode(page), as: UTF8.self)
            #expect(try Self.parsed(page.json) == Self.parsed(encoded))
            // And it reads back into the resource.
            #expect(try APICoding.decoder.decode(QuestionListResource.self, from: Data(page.json.utf8)) == page)
        }
    }
}
