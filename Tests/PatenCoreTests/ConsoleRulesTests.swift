import Foundation
import PatenCore
import Testing

/// The rules the console and the rating page show: a link's state, what counts as at risk, the CSRF compare.
@Suite("Console and rating page rules")
struct ConsoleRulesTests {
    @Test("A rating link is used once rated, expired at its end (exclusive), else open; checkLink refuses the same")
    func linkState() {
        let end = Date(timeIntervalSince1970: 1_000_000)
        #expect(RatingRules.state(used: false, expiresAt: end, at: end.addingTimeInterval(-1)) == .open)
        #expect(RatingRules.state(used: false, expiresAt: end, at: end) == .expired)
        #expect(RatingRules.state(used: true, expiresAt: end, at: end.addingTimeInterval(10)) == .used)
        #expect(throws: PatenError.self) { try RatingRules.checkLink(used: false, expiresAt: end, at: end) }
        #expect(throws: PatenError.self) { try RatingRules.checkLink(used: true, expiresAt: end, at: end - 5) }
        #expect(throws: Never.self) { try RatingRules.checkLink(used: false, expiresAt: end, at: end - 5) }
    }

    @Test("Only SLA warnings and breaches put a question at risk")
    func atRisk() {
        #expect(Set(EscalationReason.allCases.filter(\.atRisk)) == [.slaWarning, .slaBreached])
    }

    @Test("A form's CSRF value matches only the session's own, exactly")
    func csrf() {
        let session = ConsoleSession(
            idHash: "h", helperId: "x", tokenId: "t", csrfToken: "abc123", createdAt: Date(), expiresAt: Date()
        )
        #expect(ConsoleSessions.csrfMatches("abc123", session))
        for sent in [nil, "", "abc12", "abc1234", "abc124", "ABC123"] as [String?] {
            #expect(!ConsoleSessions.csrfMatches(sent, session), "\(String(describing: sent))")
        }
    }
}
