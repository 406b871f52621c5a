import Foundation
import PatenApp
import PatenCore
import PatenStorage
import PatenTestSupport
import Testing

@Suite("Escalation engine")
struct EscalationEngineTests {
    /// Escalations of a question as (reason, level) pairs, oldest first.
    func escalations(_ env: TestEnvironment, _ questionId: String) async throws -> [String] {
        let staff = try await env.directoryService.helper("lead")
        return try await env.runtime.escalations.list(EscalationFilter(questionId: questionId), for: staff)
            .reversed().map { "\($0.reason.rawValue)/\($0.level)" }
    }

    @Test("A critical question goes to staff with one critical_intake escalation", arguments: Backend.available)
    func criticalIntake(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let question = try await env.submit("My phone was stolen", body: "someone is using my SIM", by: staff)
            #expect(question.tier == .staff)
            #expect(try await escalations(env, question.id) == ["critical_intake/1"])
            _ = try await env.desk.sweep()
            #expect(try await escalations(env, question.id) == ["critical_intake/1"])
        }
    }

    @Test("When the peer window runs out the question moves to staff, once, across ticks and a restart", arguments: Backend.available)
    func peerWindow(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let volunteer = try await env.account("vol", .volunteer).helper
            let question = try await env.submit("Roaming abroad", priority: "high", by: staff)
            _ = try await env.desk.claim(question.id, by: volunteer)
            env.clock.advance(by: 29 * 60)
            #expect(try await env.desk.sweep().movedToStaff == 0)
            env.clock.advance(by: 61)
            let outcome = try await env.desk.sweep()
            #expect(outcome.movedToStaff == 1)
            let moved = try #require(try await env.store.question(id: question.id))
            #expect(moved.tier == .staff)
            #expect(moved.state == .open)
            #expect(moved.holderId == nil)
            #expect(try await escalations(env, question.id) == ["peer_window_expired/1"])
            #expect(try await env.store.count("SELECT COUNT(*) FROM claims WHERE end_reason = 'moved'") == 1)
            // The staff clocks started when it arrived.
            #expect(
                try await env.store.count(
                    "SELECT COUNT(*) FROM sla_timers WHERE question_id = ? AND target IN ('first_response', 'resolution')",
                    [question.id]
                ) == 2)

            // Another tick, and a fresh process on the same data, change nothing.
            _ = try await env.desk.sweep()
            try await PatenRuntime.with(env.runtime.configuration, clock: env.clock) { restarted in
                _ = try await restarted.desk.sweep()
            }
            #expect(try await escalations(env, question.id) == ["peer_window_expired/1"])
        }
    }

    @Test("A volunteer's first reply in time stops the peer window", arguments: Backend.available)
    func answeredInTime(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let volunteer = try await env.account("vol", .volunteer).helper
            let question = try await env.submit("Voicemail", by: staff)
            _ = try await env.desk.claim(question.id, by: volunteer)
            _ = try await env.desk.reply(to: question.id, body: "Dial 333", by: volunteer)
            env.clock.advance(by: 3 * 3600)
            #expect(try await env.desk.sweep() == SweepOutcome())
            #expect(try await env.store.question(id: question.id)?.tier == .volunteer)
            #expect(try await escalations(env, question.id) == [])
        }
    }

    @Test("The first lease expiry only frees the question; the second escalates, once", arguments: Backend.available)
    func claimExpiry(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let volunteer = try await env.account("vol", .volunteer).helper
            let question = try await env.submit("APN", priority: "low", by: staff)
            for round in 1...3 {
                _ = try await env.desk.claim(question.id, by: volunteer)
                env.clock.advance(by: 31 * 60)
                #expect(try await env.desk.expireLeases() == 1)
                #expect(try await escalations(env, question.id) == (round == 1 ? [] : ["claim_expired/1"]))
            }
        }
    }

    @Test("Leases that run out after the holder replied do not count towards claim_expired", arguments: Backend.available)
    func claimExpiryAfterReply(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let volunteer = try await env.account("vol", .volunteer).helper
            let question = try await env.submit("APN", priority: "low", by: staff)
            for _ in 1...3 {
                _ = try await env.desk.claim(question.id, by: volunteer)
                _ = try await env.desk.reply(to: question.id, body: "Waiting for your answer", by: volunteer)
                env.clock.advance(by: 31 * 60)
                #expect(try await env.desk.expireLeases() == 1)
            }
            #expect(try await escalations(env, question.id) == [])
        }
    }

    @Test("Reopening an unanswered volunteer-tier question starts its peer window again", arguments: Backend.available)
    func reopenRestartsPeerWindow(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let question = try await env.submit("Voicemail", by: staff)
            _ = try await env.desk.resolve(question.id, note: "Duplicate", by: staff)
            env.clock.advance(by: 3 * 3600)
            #expect(try await env.desk.sweep().movedToStaff == 0)
            _ = try await env.desk.reopen(question.id, by: staff)
            env.clock.advance(by: 2 * 3600 + 1)
            #expect(try await env.desk.sweep().movedToStaff == 1)
            #expect(try await escalations(env, question.id) == ["peer_window_expired/1"])
        }
    }

    @Test("A staff target warns at the threshold, then breaches at level 2; each once", arguments: Backend.available)
    func warningThenBreach(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let question = try await env.submit("Refund please", body: "I was charged twice", by: staff)
            #expect(question.tier == .staff)
            let planner = SLAPlanner(policy: env.runtime.policy)
            let timer = try #require(planner.staffTimer(.firstResponse, priority: .normal, from: question.createdAt))
            let warnAt = try #require(timer.warnAt)
            // Submitted Monday 16:13:20 in Berlin; 4 business hours with staff open 08:00-20:00 run out Tuesday
            // 08:13:20 (06:13:20 UTC); the warning at 80 % comes Monday 19:25:20 (17:25:20 UTC).
            #expect(question.createdAt == (try Date("2026-09-21T14:13:20Z", strategy: .iso8601)))
            #expect(timer.dueAt == (try Date("2026-09-22T06:13:20Z", strategy: .iso8601)))
            #expect(warnAt == (try Date("2026-09-21T17:25:20Z", strategy: .iso8601)))

            env.clock.advance(by: warnAt.timeIntervalSince(env.clock.now()) - 1)
            #expect(try await env.desk.sweep().warnings == 0)
            env.clock.advance(by: 1)
            #expect(try await env.desk.sweep().warnings == 1)
            #expect(try await env.desk.sweep() == SweepOutcome())
            #expect(try await escalations(env, question.id) == ["sla_warning/1"])

            env.clock.advance(by: timer.dueAt.timeIntervalSince(env.clock.now()))
            #expect(try await env.desk.sweep().breaches == 1)
            #expect(try await escalations(env, question.id) == ["sla_warning/1", "sla_breached/2"])
            let types = try await env.desk.detail(id: question.id, for: staff).events.map(\.type)
            #expect(types.contains(.slaWarning) && types.contains(.slaBreached))

            // A late reply meets the clock but the breach stays on record.
            _ = try await env.desk.reply(to: question.id, body: "Refunded", by: staff)
            #expect(
                try await env.store.count(
                    "SELECT COUNT(*) FROM sla_timers WHERE question_id = ? AND target = 'first_response' AND status = 'breached'",
                    [question.id]
                ) == 1)
        }
    }

    @Test(
        "A customer follow-up on an answered staff question starts the next-response clock; a reply meets it", arguments: Backend.available)
    func nextResponse(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let bridge = try await env.account("bridge", .integration).helper
            let question = try await env.submit("Refund", body: "charged twice", by: bridge)
            _ = try await env.desk.reply(to: question.id, body: "Looking into it", by: staff)
            env.clock.advance(by: 60)
            _ = try await env.desk.addCustomerMessage(to: question.id, body: "Any news?", by: bridge)
            #expect(
                try await env.store.count(
                    "SELECT COUNT(*) FROM sla_timers WHERE question_id = ? AND target = 'next_response' AND status = 'running'",
                    [question.id]) == 1)
            env.clock.advance(by: 120)
            let (_, _) = try await env.desk.reply(to: question.id, body: "Refunded", by: staff)
            #expect(
                try await env.store.count(
                    "SELECT COUNT(*) FROM sla_timers WHERE question_id = ? AND target = 'next_response' AND status = 'met'", [question.id])
                    == 1)
            let row = try #require(
                try await env.runtime.metrics.summary(
                    from: question.createdAt, to: env.clock.now().addingTimeInterval(1), by: .all, for: staff
                ).first
            )
            #expect(row.nextResponse.median == 120)
        }
    }

    @Test("A volunteer hands off with a note; staff escalate by hand at level 2; repeats are 409", arguments: Backend.available)
    func handoffAndManual(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let volunteer = try await env.account("vol", .volunteer).helper
            let bridge = try await env.account("bridge", .integration).helper
            let question = try await env.submit("Porting my number", by: staff)

            let unclaimed = await #expect(throws: PatenError.self) {
                _ = try await env.desk.escalate(question.id, note: "help", level: nil, by: volunteer)
            }
            #expect(unclaimed?.code == "not_holder")
            _ = try await env.desk.claim(question.id, by: volunteer)
            let noNote = await #expect(throws: PatenError.self) {
                _ = try await env.desk.escalate(question.id, note: "  ", level: nil, by: volunteer)
            }
            #expect(noNote?.code == "note_required")
            _ = try await env.desk.reply(to: question.id, body: "Asked for the PAC code", by: volunteer)

            let handoff = try await env.desk.escalate(
                question.id, note: "PAC code rejected twice; customer needs staff to check the old provider.",
                level: nil, by: volunteer
            )
            #expect(handoff.reason == .handoff)
            #expect(handoff.createdBy == volunteer.id)
            let moved = try #require(try await env.store.question(id: question.id))
            #expect(moved.tier == .staff && moved.holderId == nil)
            // The volunteer keeps credit for the reply they wrote.
            #expect(try await env.store.count("SELECT volunteer_replies FROM questions WHERE id = ?", [question.id]) == 1)

            env.clock.advance(by: 1)
            let manual = try await env.desk.escalate(question.id, note: "Lead please call", level: 2, by: staff)
            #expect(manual.reason == .manual && manual.level == 2)
            let again = await #expect(throws: PatenError.self) {
                _ = try await env.desk.escalate(question.id, note: "again", level: 2, by: staff)
            }
            #expect(again?.code == "already_escalated")
            let integration = await #expect(throws: PatenError.self) {
                _ = try await env.desk.escalate(question.id, note: "x", level: 1, by: bridge)
            }
            #expect(integration?.kind == .forbidden)
            #expect(try await escalations(env, question.id) == ["handoff/1", "manual/2"])
        }
    }

    @Test("Acknowledge and resolve move an escalation forward once; volunteers cannot", arguments: Backend.available)
    func acknowledgeAndResolve(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let volunteer = try await env.account("vol", .volunteer).helper
            let question = try await env.submit("Fraud on my account", by: staff)
            let escalation = try #require(
                try await env.runtime.escalations.list(EscalationFilter(questionId: question.id), for: staff).first
            )
            await #expect(throws: PatenError.self) { _ = try await env.runtime.escalations.acknowledge(escalation.id, by: volunteer) }
            #expect(try await env.runtime.escalations.acknowledge(escalation.id, by: staff).state == .acknowledged)
            let twice = await #expect(throws: PatenError.self) {
                _ = try await env.runtime.escalations.acknowledge(escalation.id, by: staff)
            }
            #expect(twice?.code == "escalation_not_open")
            #expect(try await env.runtime.escalations.resolve(escalation.id, by: staff).state == .resolved)
            await #expect(throws: PatenError.self) { _ = try await env.runtime.escalations.resolve(escalation.id, by: staff) }
            let kinds = try await env.runtime.escalations.changes(after: 0).map(\.kind)
            #expect(kinds == [.created, .acknowledged, .resolved])
        }
    }
}
