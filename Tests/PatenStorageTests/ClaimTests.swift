import Foundation
import PatenCore
import PatenStorage
import PatenTestSupport
import Testing

@Suite("Claims")
struct ClaimTests {
    @Test("Of 50 concurrent claimers exactly one wins; the rest get 409 naming the holder", arguments: Backend.available)
    func exclusivity(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            // Given 50 volunteers and one open question
            let staff = try await env.account("staff1", .staff).helper
            let question = try await env.submit("Roaming in Spain", topic: "roaming", by: staff)
            var volunteers: [Helper] = []
            for index in 0..<50 { volunteers.append(try await env.account("vol\(index)", .volunteer).helper) }

            // When all claim at once
            let results = await withTaskGroup(of: Result<Question, PatenError>.self) { group in
                for volunteer in volunteers {
                    group.addTask {
                        do { return .success(try await env.desk.claim(question.id, by: volunteer)) } catch let error as PatenError {
                            return .failure(error)
                        } catch { return .failure(PatenError.malformed("unexpected", "\(error)")) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }

            // Then one wins, 49 conflict, and the database agrees
            let winners = results.compactMap { try? $0.get() }
            #expect(winners.count == 1)
            let failures = results.compactMap { result -> PatenError? in
                if case .failure(let error) = result { return error }
                return nil
            }
            #expect(failures.count == 49)
            let winner = try #require(winners.first?.holderId)
            let handle = try #require(volunteers.first { $0.id == winner }?.handle)
            #expect(failures.allSatisfy { $0.code == "already_claimed" && $0.details["holder"] == handle })
            #expect(
                try await env.store.count("SELECT COUNT(*) FROM claims WHERE question_id = ? AND ended_at IS NULL", [question.id])
                    == 1)
            #expect(try await env.store.count("SELECT COUNT(*) FROM claims WHERE question_id = ?", [question.id]) == 1)
            #expect(
                try await env.store.count(
                    "SELECT COUNT(*) FROM question_events WHERE question_id = ? AND type = 'question.claimed'", [question.id]
                ) == 1)
        }
    }

    @Test("A helper at capacity cannot claim another; releasing one frees a slot", arguments: Backend.available)
    func capacity(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("staff1", .staff).helper
            let volunteer = try await env.account("vol", .volunteer, capacity: 2).helper
            let questions = [
                try await env.submit("one", by: staff), try await env.submit("two", by: staff),
                try await env.submit("three", by: staff),
            ]
            _ = try await env.desk.claim(questions[0].id, by: volunteer)
            _ = try await env.desk.claim(questions[1].id, by: volunteer)
            let full = await #expect(throws: PatenError.self) {
                _ = try await env.desk.claim(questions[2].id, by: volunteer)
            }
            #expect(full?.code == "at_capacity")
            #expect(full?.kind == .conflict)
            _ = try await env.desk.release(questions[0].id, by: volunteer)
            let claimed = try await env.desk.claim(questions[2].id, by: volunteer)
            #expect(claimed.holderId == volunteer.id)
        }
    }

    @Test(
        "A helper's concurrent claims of different questions stop at its capacity", arguments: Backend.available)
    func concurrentCapacity(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            // Given a volunteer with capacity 3 and 24 open questions
            let staff = try await env.account("staff1", .staff).helper
            let volunteer = try await env.account("vol", .volunteer, capacity: 3).helper
            var questions: [Question] = []
            for index in 0..<24 { questions.append(try await env.submit("question \(index)", by: staff)) }

            // When the volunteer claims all of them at once
            let results = await withTaskGroup(of: Result<Question, PatenError>.self) { group in
                for question in questions {
                    group.addTask {
                        do { return .success(try await env.desk.claim(question.id, by: volunteer)) } catch let error as PatenError {
                            return .failure(error)
                        } catch { return .failure(PatenError.malformed("unexpected", "\(error)")) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }

            // Then exactly capacity claims went through, the rest were refused as over capacity, and the database
            // agrees: without the helper's row lock, concurrent counts each see fewer live claims than there are
            let failures = results.compactMap { result -> PatenError? in
                if case .failure(let error) = result { return error }
                return nil
            }
            #expect(results.count - failures.count == 3)
            #expect(failures.count == 21)
            #expect(failures.allSatisfy { $0.code == "at_capacity" }, "\(failures.map(\.code))")
            #expect(
                try await env.store.count(
                    "SELECT COUNT(*) FROM claims WHERE helper_id = ? AND ended_at IS NULL", [volunteer.id]) == 3)
            #expect(
                try await env.store.count(
                    "SELECT COUNT(*) FROM questions WHERE holder_id = ? AND state = 'claimed'", [volunteer.id]) == 3)
        }
    }

    @Test("Volunteers cannot claim staff-tier questions; integrations cannot claim at all", arguments: Backend.available)
    func tierAndRole(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("staff1", .staff).helper
            let volunteer = try await env.account("vol", .volunteer).helper
            let bridge = try await env.account("bridge", .integration).helper
            let billing = try await env.submit("Invoice wrong", body: "charged twice", by: staff)
            #expect(billing.tier == .staff)
            let error = await #expect(throws: PatenError.self) { _ = try await env.desk.claim(billing.id, by: volunteer) }
            #expect(error?.kind == .forbidden)
            let general = try await env.submit("Hello", by: staff)
            let roleError = await #expect(throws: PatenError.self) { _ = try await env.desk.claim(general.id, by: bridge) }
            #expect(roleError?.code == "role_cannot_claim")
            #expect(try await env.desk.claim(billing.id, by: staff).holderId == staff.id)
        }
    }

    @Test("An expired lease frees the question: at claim time, and by the periodic expiry", arguments: Backend.available)
    func leaseExpiry(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("staff1", .staff).helper
            let first = try await env.account("first", .volunteer).helper
            let second = try await env.account("second", .volunteer).helper
            let question = try await env.submit("Data not working", by: staff)
            _ = try await env.desk.claim(question.id, by: first)

            // Before the lease runs out the question is taken
            env.clock.advance(by: 29 * 60)
            await #expect(throws: PatenError.self) { _ = try await env.desk.claim(question.id, by: second) }
            #expect(try await env.desk.queue(for: second).isEmpty)

            // After it, the question is back in the queue and another volunteer can claim it
            env.clock.advance(by: 61)
            #expect(try await env.desk.queue(for: second).map(\.id) == [question.id])
            let claimed = try await env.desk.claim(question.id, by: second)
            #expect(claimed.holderId == second.id)
            let detail = try await env.desk.detail(id: question.id, for: staff)
            #expect(detail.events.map(\.type).suffix(2) == [.claimExpired, .claimed])
            #expect(detail.events.first { $0.type == .claimExpired }?.data["holder_id"] == first.id)

            // The first holder can no longer reply
            let replyError = await #expect(throws: PatenError.self) {
                _ = try await env.desk.reply(to: question.id, body: "late", by: first)
            }
            #expect(replyError?.code == "not_holder")

            // The periodic expiry frees a lease nobody touches
            env.clock.advance(by: 31 * 60)
            #expect(try await env.desk.expireLeases() == 1)
            #expect(try await env.store.question(id: question.id)?.state == .open)
            #expect(try await env.store.count("SELECT COUNT(*) FROM claims WHERE ended_at IS NULL") == 0)
            #expect(try await env.desk.expireLeases() == 0)
        }
    }

    @Test("A reply renews the holder's lease", arguments: Backend.available)
    func replyRenews(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("staff1", .staff).helper
            let volunteer = try await env.account("vol", .volunteer).helper
            let question = try await env.submit("Voicemail", by: staff)
            _ = try await env.desk.claim(question.id, by: volunteer)
            env.clock.advance(by: 20 * 60)
            _ = try await env.desk.reply(to: question.id, body: "Try *86", by: volunteer)
            env.clock.advance(by: 20 * 60)
            #expect(try await env.desk.expireLeases() == 0)
            #expect(try await env.store.question(id: question.id)?.holderId == volunteer.id)
        }
    }
}
