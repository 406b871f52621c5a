import Foundation
import GRDB
import PatenCore
import PatenStorage
import PatenTestSupport
import Testing

@Suite("Ratings")
struct RatingTests {
    /// The rating token from the link the question's detail gives staff (for a question submitted through the API).
    func ratingToken(_ env: TestEnvironment, _ questionId: String, as viewer: Helper) async throws -> String {
        let detail = try await env.desk.detail(id: questionId, for: viewer)
        #expect(detail.events.allSatisfy { $0.data["rating_url"] == nil })
        let url = try #require(detail.ratingUrl)
        #expect(url.hasPrefix(env.runtime.configuration.externalURL + "/v1/ratings/rt_"))
        return String(try #require(url.split(separator: "/").last))
    }

    @Test("One rating per question, attributed to the helper whose reply resolved it; a low score escalates", arguments: Backend.available)
    func rules(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let volunteer = try await env.account("vol", .volunteer).helper
            let question = try await env.submit("Hotspot", by: staff)
            _ = try await env.desk.claim(question.id, by: volunteer)
            _ = try await env.desk.reply(to: question.id, body: "Enable it in settings", by: volunteer)
            _ = try await env.desk.resolve(question.id, by: staff)
            let token = try await ratingToken(env, question.id, as: staff)

            let badScore = await #expect(throws: PatenError.self) { _ = try await env.desk.rate(token: token, score: 6, comment: nil) }
            #expect(badScore?.kind == .unprocessable)
            let longComment = await #expect(throws: PatenError.self) {
                _ = try await env.desk.rate(token: token, score: 4, comment: String(repeating: "x", count: 2001))
            }
            #expect(longComment?.code == "comment_too_long")

            let rating = try await env.desk.rate(token: token, score: 2, comment: "Did not work, \"sadly\"")
            #expect(rating.helperId == volunteer.id)
            #expect(rating.helperTier == .volunteer)
            let again = await #expect(throws: PatenError.self) { _ = try await env.desk.rate(token: token, score: 5, comment: nil) }
            #expect(again?.kind == .conflict)
            let unknown = await #expect(throws: PatenError.self) { _ = try await env.desk.rate(token: "rt_nope", score: 5, comment: nil) }
            #expect(unknown?.kind == .notFound)
            let escalations = try await env.runtime.escalations.list(EscalationFilter(questionId: question.id), for: staff)
            // A new volunteer's first accepted answers go to staff for review as well.
            #expect(escalations.map(\.reason).sorted { $0.rawValue < $1.rawValue } == [.lowRating, .probationReview])

            // Reopened and resolved again: no second link for a rated question.
            _ = try await env.desk.reopen(question.id, by: staff)
            _ = try await env.desk.resolve(question.id, by: staff)
            #expect(try await env.desk.detail(id: question.id, for: staff).ratingUrl == nil)
        }
    }

    @Test("A link expires after 14 days", arguments: Backend.available)
    func expiry(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let question = try await env.submit("Voicemail", by: staff)
            _ = try await env.desk.resolve(question.id, note: "Answered by phone", by: staff)
            let token = try await ratingToken(env, question.id, as: staff)
            env.clock.advance(by: 14 * 86400 - 1)
            #expect(try await env.desk.detail(id: question.id, for: staff).ratingUrl != nil)
            env.clock.advance(by: 2)
            #expect(try await env.desk.detail(id: question.id, for: staff).ratingUrl == nil)
            let expired = await #expect(throws: PatenError.self) { _ = try await env.desk.rate(token: token, score: 5, comment: nil) }
            #expect(expired?.code == "rating_expired")
        }
    }

    @Test("A good score is recorded without escalating", arguments: Backend.available)
    func goodScore(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let question = try await env.submit("Voicemail", by: staff)
            _ = try await env.desk.reply(to: question.id, body: "Fixed", by: staff)
            _ = try await env.desk.resolve(question.id, by: staff)
            let rating = try await env.desk.rate(token: try await ratingToken(env, question.id, as: staff), score: 5, comment: " ")
            #expect(rating.helperTier == .staff)
            #expect(rating.comment == nil)
            #expect(try await env.store.count("SELECT COUNT(*) FROM escalations") == 0)
        }
    }

    @Test("A made-up rating token is refused without waiting for the SQLite writer")
    func guessesDoNotQueueForTheWriter() async throws {
        try await withTestEnvironment(backend: .sqlite) { env in
            // Another connection holds the one write lock for eight seconds, as a long batch of writes would; a guess that
            // waited for it would take that long, one that does not finishes well inside five even on a loaded machine.
            let holder = try DatabaseQueue(path: env.runtime.configuration.databasePath)
            // On a thread of its own: a sleep on one of the few cooperative threads would slow every other test.
            let locked = DispatchSemaphore(value: 0)
            let finished = DispatchSemaphore(value: 0)
            Thread {
                _ = try? holder.writeWithoutTransaction { db in
                    try db.inTransaction(.immediate) {
                        locked.signal()
                        Thread.sleep(forTimeInterval: 8)
                        return .rollback
                    }
                }
                finished.signal()
            }.start()
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    locked.wait()
                    continuation.resume()
                }
            }
            let started = ContinuousClock.now
            let guess = await #expect(throws: PatenError.self) {
                _ = try await env.desk.rate(token: "rt_guessed", score: 1, comment: nil)
            }
            #expect(guess?.code == "rating_not_found")
            #expect(ContinuousClock.now - started < .seconds(5))
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    finished.wait()
                    continuation.resume()
                }
            }
        }
    }
}
