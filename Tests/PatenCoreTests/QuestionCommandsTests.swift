import Foundation
import PatenCore
import Synchronization
import Testing

/// Every question command as the pure decision it is: a snapshot in, the whole change (row and ordered effects) or
/// the refusal out. No database: the stores only apply what these decide.
@Suite("Question commands")
struct QuestionCommandsTests {
    /// When the question was submitted: whole milliseconds, so times round-trip through `millisecondsSince1970`.
    let createdAt = Date(millisecondsSince1970: 1_795_000_000_000)
    /// When a helper first answered, in fixtures that say the question was answered.
    var firstReplyAt: Date { createdAt.addingTimeInterval(600) }
    /// When the command runs: an hour after submission.
    var now: Date { createdAt.addingTimeInterval(3600) }
    let lease: TimeInterval = 1800

    // MARK: - Intake

    @Test("Intake on the volunteer tier stores the message, the created and routed events and the peer window")
    func intakeVolunteerTier() {
        let draft = QuestionDraft(question: question(state: .open), body: "Hi", routingReason: "keywords")
        let change = QuestionCommands.intake(draft, messageId: "m_1", idempotency: nil, context: context(at: createdAt))

        #expect(change.before == nil)
        #expect(change.record == QuestionRecord(question: draft.question))
        #expect(change.trail == ["message(customer)", "question.created", "question.routed", "startTimer(peer_window)"])
        #expect(
            change.messages == [
                Message(
                    id: "m_1", questionId: "q_1", authorKind: .customer, helperId: nil, body: "Hi", createdAt: createdAt
                )
            ]
        )
        let created = change.events[0]
        #expect(created.actorId == "int_chat")
        #expect(created.at == createdAt)
        #expect(created.data == ["channel": "int_chat", "message_id": "m_1"])
        let routed = change.events[1]
        #expect(routed.actorId == nil)
        #expect(
            routed.data == [
                "tier": "volunteer", "reason": "keywords", "topic": "general", "priority": "normal", "language": "en",
                "peer_deadline_at": ms(createdAt.addingTimeInterval(7200)),
            ]
        )
        // The window is the policy's for the priority (normal: 2 h), in calendar time from submission.
        #expect(
            change.effects.last
                == .startTimer(
                    SLATimer(target: .peerWindow, startedAt: createdAt, warnAt: nil, dueAt: createdAt.addingTimeInterval(7200)),
                    onlyIfEnded: false
                )
        )
        #expect(change.escalations.isEmpty)
    }

    @Test("Intake on the staff tier starts first response and resolution, and no peer window")
    func intakeStaffTier() {
        let draft = QuestionDraft(
            question: question(tier: .staff, priority: .high), body: "Bill wrong", routingReason: "staff_only_topic"
        )
        let change = QuestionCommands.intake(draft, messageId: "m_1", idempotency: nil, context: context(at: createdAt))

        #expect(
            change.trail == [
                "message(customer)", "question.created", "question.routed", "startTimer(first_response)",
                "startTimer(resolution)",
            ]
        )
        // High priority: first response 2 h, resolution 24 h, each warned at 75 %.
        #expect(
            change.startedTimers == [
                staffTimer(.firstResponse, hours: 2, from: createdAt), staffTimer(.resolution, hours: 24, from: createdAt),
            ]
        )
        #expect(change.events[1].data["peer_deadline_at"] == nil)
        #expect(change.events[1].data["tier"] == "staff")
        #expect(change.escalations.isEmpty)
    }

    @Test("Critical intake raises a critical_intake escalation at the reason's default level")
    func intakeCritical() {
        let draft = QuestionDraft(
            question: question(tier: .staff, priority: .critical), body: "Hacked", routingReason: "critical_keyword"
        )
        let change = QuestionCommands.intake(draft, messageId: "m_1", idempotency: nil, context: context(at: createdAt))

        #expect(change.trail.last == "escalation(critical_intake)")
        #expect(
            change.escalations == [
                escalation(
                    .criticalIntake, level: EscalationReason.criticalIntake.defaultLevel, note: "Critical priority at intake.",
                    actor: nil, at: createdAt, question: draft.question
                )
            ]
        )
        #expect(EscalationReason.criticalIntake.defaultLevel == 1)
        #expect(change.startedTimers.map(\.target) == [.firstResponse, .resolution])
    }

    @Test("A webhook intake stores receipt and conversation and records the origin in the created event; a key marks its write")
    func intakeFromWebhookWithIdempotency() throws {
        let origin = webhookOrigin()
        let reservation = try idempotencyReservation(route: "POST /v1/questions")
        let draft = QuestionDraft(question: question(), body: "Hi", routingReason: "keywords", origin: origin)
        let change = QuestionCommands.intake(
            draft, messageId: "m_1", idempotency: reservation, context: context(at: createdAt)
        )

        #expect(
            change.trail == [
                "idempotentWrite", "message(customer)", "receipt", "conversation", "question.created", "question.routed",
                "startTimer(peer_window)",
            ]
        )
        #expect(change.effects[0] == .idempotentWrite(reservation, IdempotentWrite(questionId: "q_1")))
        #expect(change.effects[2] == .receipt(origin, at: createdAt))
        #expect(change.effects[3] == .conversation(origin, at: createdAt))
        #expect(
            change.events[0].data == [
                "channel": "int_chat", "message_id": "m_1", "conversation_id": "C1/T1", "webhook_id": "wh_1",
                "external_message_id": "ext_1", "sent_at": RFC3339.format(origin.sentAt ?? .distantPast),
            ]
        )
    }

    // MARK: - Claim

    @Test("Claiming an open question starts a claim under a lease and records question.claimed")
    func claimOpenQuestion() throws {
        let change = try QuestionCommands.claim(
            snapshot(question()), by: volunteer, claimId: "cl_1", lease: lease, context: context()
        )

        var expected = question()
        expected.state = .claimed
        expected.holderId = "h_vol"
        expected.leaseExpiresAt = now.addingTimeInterval(lease)
        expected.updatedAt = now
        #expect(change.question == expected)
        #expect(change.record.tallies == QuestionTallies())
        #expect(
            change.effects == [
                .startClaim(id: "cl_1", helperId: "h_vol", at: now, expiresAt: now.addingTimeInterval(lease)),
                .event(
                    TimelineFact(
                        .claimed, actor: "h_vol", at: now,
                        ["claim_id": "cl_1", "lease_expires_at": ms(now.addingTimeInterval(lease))], question: expected
                    )
                ),
            ]
        )
    }

    @Test("The holder claiming again renews the lease only, even at capacity: no new claim, no event")
    func claimRenewal() throws {
        let change = try QuestionCommands.claim(
            snapshot(claimed(by: "h_vol"), activeClaims: 3), by: volunteer, claimId: "cl_2", lease: lease,
            context: context()
        )

        #expect(change.effects == [.renewClaim(expiresAt: now.addingTimeInterval(lease))])
        #expect(change.question.state == .claimed)
        #expect(change.question.holderId == "h_vol")
        #expect(change.question.leaseExpiresAt == now.addingTimeInterval(lease))
        #expect(change.question.updatedAt == now)
    }

    @Test("Staff claim staff-tier questions")
    func staffClaimsStaffTier() throws {
        let change = try QuestionCommands.claim(
            snapshot(question(tier: .staff)), by: staff, claimId: "cl_1", lease: lease, context: context()
        )
        #expect(change.trail == ["startClaim", "question.claimed"])
        #expect(change.question.holderId == "h_staff")
    }

    @Test("Claim refusals: integration, volunteer on staff tier, resolved, held by another, at capacity")
    func claimRefusals() {
        let ctx = context()
        expectRefusal("role_cannot_claim", .forbidden) {
            try QuestionCommands.claim(snapshot(question()), by: chat, claimId: "cl", lease: lease, context: ctx)
        }
        expectRefusal("staff_tier", .forbidden) {
            try QuestionCommands.claim(
                snapshot(question(tier: .staff)), by: volunteer, claimId: "cl", lease: lease, context: ctx
            )
        }
        expectRefusal("question_resolved", .conflict) {
            try QuestionCommands.claim(
                snapshot(question(tier: .staff, state: .resolved)), by: staff, claimId: "cl", lease: lease, context: ctx
            )
        }
        // The holder's handle names them in the conflict; without it, a neutral phrase.
        expectRefusal("already_claimed", .conflict, details: ["holder": "otto"]) {
            try QuestionCommands.claim(
                snapshot(claimed(by: "h_other"), holderHandle: "otto"), by: volunteer, claimId: "cl", lease: lease,
                context: ctx
            )
        }
        expectRefusal("already_claimed", .conflict, details: ["holder": "another helper"]) {
            try QuestionCommands.claim(
                snapshot(claimed(by: "h_other")), by: staff, claimId: "cl", lease: lease, context: ctx
            )
        }
        // Capacity counts live claims: at capacity is refused, one below is not.
        expectRefusal("at_capacity", .conflict, details: ["capacity": "3"]) {
            try QuestionCommands.claim(
                snapshot(question(), activeClaims: 3), by: volunteer, claimId: "cl", lease: lease, context: ctx
            )
        }
        #expect(
            (try? QuestionCommands.claim(
                snapshot(question(), activeClaims: 2), by: volunteer, claimId: "cl", lease: lease, context: ctx
            )) != nil
        )
    }

    @Test("Claiming a question whose lease ran out expires the old claim first, then starts the new one")
    func claimAfterExpiry() throws {
        let stale = claimed(by: "h_other", until: now.addingTimeInterval(-1))
        let change = try QuestionCommands.claim(
            snapshot(stale, expiredHolderReplied: false), by: volunteer, claimId: "cl_2", lease: lease, context: context()
        )

        #expect(change.trail == ["endClaim(expired)", "question.claim_expired", "startClaim", "question.claimed"])
        #expect(change.record.tallies.claimExpiries == 1)
        #expect(change.question.holderId == "h_vol")
        #expect(change.question.state == .claimed)
    }

    // MARK: - Lease expiry

    @Test("A lease at exactly its expiry instant has run out: the claim ends, the question reopens, the expiry counts")
    func leaseExpiresAtItsInstant() {
        let change = QuestionCommands.expireLease(
            snapshot(claimed(by: "h_other", until: now), expiredHolderReplied: false), context: context()
        )

        var expected = question()
        expected.updatedAt = now
        #expect(change.question == expected)
        #expect(change.record.tallies.claimExpiries == 1)
        #expect(
            change.effects == [
                .endClaim(.expired, at: now),
                .event(
                    TimelineFact(
                        .claimExpired, actor: nil, at: now, ["holder_id": "h_other", "lease_expired_at": ms(now)],
                        question: expected
                    )
                ),
            ]
        )
        #expect(change.outcome.examined == 1)
        #expect(change.escalations.isEmpty)
    }

    @Test("A lease one millisecond before its expiry is still held: nothing changes")
    func leaseHeldUntilItsLastMillisecond() {
        let held = claimed(by: "h_other", until: now.addingTimeInterval(0.001))
        let change = QuestionCommands.expireLease(snapshot(held), context: context())

        #expect(change.effects.isEmpty)
        #expect(change.record == QuestionRecord(question: held))
        #expect(!change.writesRow)
        #expect(change.outcome == SweepOutcome())
    }

    @Test("An expiry whose holder replied during the claim neither counts nor escalates")
    func expiryAfterHolderReplied() {
        let change = QuestionCommands.expireLease(
            snapshot(claimed(by: "h_other", until: now), QuestionTallies(claimExpiries: 1), expiredHolderReplied: true),
            context: context()
        )

        #expect(change.trail == ["endClaim(expired)", "question.claim_expired"])
        #expect(change.record.tallies.claimExpiries == 1)
        #expect(change.question.state == .open)
    }

    @Test("A second lease that ran out without a reply escalates claim_expired")
    func secondExpiryEscalates() {
        let change = QuestionCommands.expireLease(
            snapshot(claimed(by: "h_other", until: now), QuestionTallies(claimExpiries: 1), expiredHolderReplied: false),
            context: context()
        )

        #expect(change.record.tallies.claimExpiries == 2)
        #expect(change.trail == ["endClaim(expired)", "question.claim_expired", "escalation(claim_expired)"])
        #expect(
            change.escalations == [
                escalation(
                    .claimExpired, level: 1, note: "Claimed twice and both leases ran out without a reply.", actor: nil,
                    question: change.question
                )
            ]
        )
    }

    // MARK: - Release

    @Test("The holder, or staff, release a claim: it ends and the question returns to the pool")
    func release() throws {
        for actor in [volunteer, staff] {
            let change = try QuestionCommands.release(snapshot(claimed(by: "h_vol")), by: actor, context: context())

            var expected = question()
            expected.updatedAt = now
            #expect(change.question == expected, "\(actor.role)")
            #expect(
                change.effects == [
                    .endClaim(.released, at: now),
                    .event(TimelineFact(.released, actor: actor.id, at: now, ["holder_id": "h_vol"], question: expected)),
                ]
            )
        }
    }

    @Test("Release refusals: a volunteer who is not the holder, a question nobody holds (or whose lease ran out)")
    func releaseRefusals() {
        let ctx = context()
        expectRefusal("not_holder", .forbidden) {
            try QuestionCommands.release(snapshot(claimed(by: "h_other")), by: volunteer, context: ctx)
        }
        expectRefusal("not_claimed", .conflict) {
            try QuestionCommands.release(snapshot(question()), by: staff, context: ctx)
        }
        // The expiry step runs first: a lapsed claim is nobody's to release.
        expectRefusal("not_claimed", .conflict) {
            try QuestionCommands.release(snapshot(claimed(by: "h_vol", until: now)), by: volunteer, context: ctx)
        }
    }

    // MARK: - Reply

    @Test("A first reply meets the peer and staff response clocks, measures from submission and renews the holder's lease")
    func firstReply() throws {
        let change = try QuestionCommands.reply(
            snapshot(claimed(by: "h_vol")), by: volunteer, messageId: "m_2", body: "Restart it", lease: lease,
            context: context()
        )

        #expect(
            change.trail == [
                "message(helper)", "endTimers(peer_window,first_response,next_response as met)", "renewClaim",
                "question.replied",
            ]
        )
        #expect(
            change.messages == [
                Message(id: "m_2", questionId: "q_1", authorKind: .helper, helperId: "h_vol", body: "Restart it", createdAt: now)
            ]
        )
        #expect(change.effects[1] == .endTimers([.peerWindow, .firstResponse, .nextResponse], as: .met, at: now))
        #expect(change.effects[2] == .renewClaim(expiresAt: now.addingTimeInterval(lease)))
        #expect(change.question.firstResponseAt == now)
        #expect(change.question.leaseExpiresAt == now.addingTimeInterval(lease))
        #expect(change.question.updatedAt == now)
        #expect(change.record.tallies == QuestionTallies(volunteerReplies: 1))
        let replied = change.events[0]
        #expect(replied.actorId == "h_vol")
        #expect(
            replied.data == [
                "message_id": "m_2", "first_response": "true", "tier": "volunteer", "helper_role": "volunteer",
                "response_ms": "3600000", "response_kind": "first",
            ]
        )
    }

    @Test("A later reply to a waiting follow-up counts a next response: count, total and max")
    func nextResponseReply() throws {
        let waiting = QuestionTallies(
            awaitingReplySince: now.addingTimeInterval(-900), nextResponseCount: 1, nextResponseTotalMs: 300_000,
            nextResponseMaxMs: 300_000, staffReplies: 1
        )
        let change = try QuestionCommands.reply(
            snapshot(question(tier: .staff, answered: true), waiting), by: staff, messageId: "m_4", body: "Done",
            lease: lease, context: context()
        )

        #expect(
            change.record.tallies
                == QuestionTallies(nextResponseCount: 2, nextResponseTotalMs: 1_200_000, nextResponseMaxMs: 900_000, staffReplies: 2)
        )
        // The first response stays the first; a replier who holds no claim renews nothing.
        #expect(change.question.firstResponseAt == firstReplyAt)
        #expect(change.trail == ["message(helper)", "endTimers(peer_window,first_response,next_response as met)", "question.replied"])
        #expect(
            change.events[0].data == [
                "message_id": "m_4", "first_response": "false", "tier": "staff", "helper_role": "staff",
                "response_ms": "900000", "response_kind": "next",
            ]
        )
    }

    @Test("A shorter next response keeps the longest one as the max")
    func nextResponseMaxKeepsLongest() throws {
        let waiting = QuestionTallies(
            awaitingReplySince: now.addingTimeInterval(-60), nextResponseCount: 1, nextResponseTotalMs: 2_000_000,
            nextResponseMaxMs: 2_000_000
        )
        let change = try QuestionCommands.reply(
            snapshot(question(tier: .staff, answered: true), waiting), by: admin, messageId: "m_4", body: "Done",
            lease: lease, context: context()
        )
        #expect(change.record.tallies.nextResponseMaxMs == 2_000_000)
        #expect(change.record.tallies.nextResponseTotalMs == 2_060_000)
        // Admins count as staff replies.
        #expect(change.record.tallies.staffReplies == 1)
        #expect(change.record.tallies.volunteerReplies == 0)
        #expect(change.events[0].data["helper_role"] == "admin")
    }

    @Test("A later reply with nothing waiting measures nothing")
    func laterReplyWithoutWaiting() throws {
        let change = try QuestionCommands.reply(
            snapshot(question(tier: .staff, answered: true)), by: staff, messageId: "m_4", body: "Also", lease: lease,
            context: context()
        )
        #expect(change.record.tallies == QuestionTallies(staffReplies: 1))
        #expect(
            change.events[0].data == ["message_id": "m_4", "first_response": "false", "tier": "staff", "helper_role": "staff"]
        )
    }

    @Test("Reply refusals: volunteer without a live claim, integration, resolved, volunteer on the staff tier")
    func replyRefusals() {
        let ctx = context()
        func reply(_ question: Question, by helper: Helper) throws -> QuestionChange {
            try QuestionCommands.reply(
                snapshot(question), by: helper, messageId: "m", body: "b", lease: lease, context: ctx
            )
        }
        expectRefusal("not_holder", .conflict) { try reply(question(), by: volunteer) }
        expectRefusal("not_holder", .conflict) { try reply(claimed(by: "h_other"), by: volunteer) }
        // The holder's own lapsed lease is expired first: they no longer hold it.
        expectRefusal("not_holder", .conflict) { try reply(claimed(by: "h_vol", until: now), by: volunteer) }
        expectRefusal("role_cannot_reply", .forbidden) { try reply(question(), by: chat) }
        expectRefusal("question_resolved", .conflict) { try reply(question(state: .resolved, answered: true), by: staff) }
        expectRefusal("staff_tier", .forbidden) { try reply(question(tier: .staff), by: volunteer) }
    }

    @Test("Staff replying on a lapsed claim expire it first and renew nothing")
    func staffReplyAfterExpiry() throws {
        let change = try QuestionCommands.reply(
            snapshot(claimed(by: "h_vol", until: now), expiredHolderReplied: false), by: staff, messageId: "m_2",
            body: "Here", lease: lease, context: context()
        )
        #expect(
            change.trail == [
                "endClaim(expired)", "question.claim_expired", "message(helper)",
                "endTimers(peer_window,first_response,next_response as met)", "question.replied",
            ]
        )
        #expect(change.question.state == .open)
        #expect(change.question.leaseExpiresAt == nil)
    }

    // MARK: - Customer messages

    @Test("Twenty follow-ups within the minute refuse the next with the seconds until the oldest leaves the minute")
    func followUpRateLimit() throws {
        func send(_ recent: [Date]) throws -> QuestionChange {
            try customerMessage(snapshot(question(answered: true), recent: recent))
        }
        // Newest first, the oldest 20 s ago: it leaves the minute in 40 s.
        let twenty = (1...20).map { now.addingTimeInterval(-TimeInterval($0)) }
        let refused = expectRefusal("too_many_messages", .tooManyRequests) { try send(twenty) }
        #expect(refused?.details == ["retry_after": "40"])

        _ = try send(Array(twenty.prefix(19)))
        // The oldest exactly a minute ago no longer counts against the limit.
        _ = try send(Array((0..<20).map { now.addingTimeInterval(-60 + TimeInterval($0) * 0.5) }.reversed()))
    }

    @Test("Customer messages come only from the question's own integration")
    func customerMessageRefusals() {
        expectRefusal("integration_only", .forbidden) {
            try customerMessage(snapshot(question()), by: staff)
        }
        expectRefusal("question_not_found", .notFound) {
            try customerMessage(snapshot(question()), by: helper("int_other", .integration))
        }
    }

    @Test("A follow-up from a webhook stores its receipt, marks its key with the message, and records the origin")
    func customerMessageFromWebhook() throws {
        let origin = webhookOrigin()
        let reservation = try idempotencyReservation(route: "POST /v1/questions/q_1/messages")
        let change = try QuestionCommands.customerMessage(
            snapshot(question(tier: .staff)), by: chat, messageId: "m_3", body: "Still broken", origin: origin,
            routing: FollowUpRouting(), idempotency: reservation, context: context()
        )

        #expect(change.trail == ["receipt", "message(customer)", "idempotentWrite", "question.customer_replied"])
        #expect(change.effects[0] == .receipt(origin, at: now))
        #expect(change.effects[2] == .idempotentWrite(reservation, IdempotentWrite(questionId: "q_1", messageId: "m_3")))
        #expect(
            change.events[0].data == [
                "message_id": "m_3", "conversation_id": "C1/T1", "webhook_id": "wh_1", "external_message_id": "ext_1",
                "sent_at": RFC3339.format(origin.sentAt ?? .distantPast),
            ]
        )
        // An unanswered staff-tier question runs its first-response clock: no next-response clock yet.
        #expect(change.startedTimers.isEmpty)
        #expect(change.record.tallies.awaitingReplySince == now)
    }

    @Test("A follow-up on a resolved question reopens it (customer_message) and the customer waits again")
    func followUpReopens() throws {
        let resolved = question(state: .resolved, answered: true, resolvedBy: "h_vol")
        let change = try customerMessage(snapshot(resolved))

        #expect(
            change.trail == [
                "message(customer)", "question.reopened", "startTimer(peer_window)", "question.customer_replied",
            ]
        )
        #expect(change.question.state == .open)
        #expect(change.question.resolvedAt == nil)
        #expect(change.question.resolvedBy == nil)
        #expect(change.question.updatedAt == now)
        #expect(change.record.tallies.awaitingReplySince == now)
        let reopened = change.events[0]
        #expect(reopened.actorId == "int_chat")
        #expect(reopened.data == ["reason": "customer_message"])
        #expect(change.events[1].data == ["message_id": "m_3"])
    }

    @Test("On the staff tier an answered question's follow-up starts next_response unless it runs already")
    func followUpStaffTierStartsNextResponse() throws {
        let change = try customerMessage(snapshot(question(tier: .staff, answered: true)))
        #expect(change.trail == ["message(customer)", "startTimer(next_response, onlyIfEnded)", "question.customer_replied"])
        #expect(change.effects[1] == .startTimer(staffTimer(.nextResponse, hours: 2, from: now), onlyIfEnded: true))

        // A second follow-up before any reply: the wait still counts from the first.
        let earlier = now.addingTimeInterval(-300)
        let second = try customerMessage(
            snapshot(question(tier: .staff, answered: true), QuestionTallies(awaitingReplySince: earlier))
        )
        #expect(second.record.tallies.awaitingReplySince == earlier)
        #expect(second.trail == ["message(customer)", "startTimer(next_response, onlyIfEnded)", "question.customer_replied"])
    }

    @Test("On the volunteer tier an answered question's follow-up gets a new peer window and deadline; a waiting one does not")
    func followUpVolunteerTierPeerWindow() throws {
        let change = try customerMessage(snapshot(question(answered: true)))
        let window = SLATimer(target: .peerWindow, startedAt: now, warnAt: nil, dueAt: now.addingTimeInterval(7200))
        #expect(change.trail == ["message(customer)", "startTimer(peer_window)", "question.customer_replied"])
        #expect(change.effects[1] == .startTimer(window, onlyIfEnded: false))
        #expect(change.question.peerDeadlineAt == window.dueAt)

        let original = createdAt.addingTimeInterval(7200)
        let waiting = try customerMessage(
            snapshot(question(answered: true), QuestionTallies(awaitingReplySince: now.addingTimeInterval(-60)))
        )
        #expect(waiting.trail == ["message(customer)", "question.customer_replied"])
        #expect(waiting.question.peerDeadlineAt == original)

        // Never answered: the first peer window still runs.
        let unanswered = try customerMessage(snapshot(question()))
        #expect(unanswered.trail == ["message(customer)", "question.customer_replied"])
        #expect(unanswered.question.peerDeadlineAt == original)
    }

    @Test("A follow-up naming a critical matter makes the question critical, moves it to staff and escalates")
    func followUpCritical() throws {
        let change = try customerMessage(snapshot(claimed(by: "h_vol")), routing: FollowUpRouting(critical: true))

        #expect(
            change.trail == [
                "message(customer)", "question.customer_replied", "endClaim(moved)", "endTimers(peer_window as stopped)",
                "startTimer(first_response)", "startTimer(resolution)", "question.routed", "escalation(critical_intake)",
            ]
        )
        #expect(change.question.priority == .critical)
        #expect(change.question.tier == .staff)
        #expect(change.question.state == .open)
        #expect(change.question.holderId == nil)
        #expect(change.question.leaseExpiresAt == nil)
        #expect(change.record.tallies.movedToStaffAt == now)
        // The staff clocks run at the new priority (critical: 1 h and 12 h).
        #expect(
            change.startedTimers == [staffTimer(.firstResponse, hours: 1, from: now), staffTimer(.resolution, hours: 12, from: now)]
        )
        #expect(change.events[1].data == ["tier": "staff", "reason": "critical_follow_up", "former_holder_id": "h_vol"])
        #expect(
            change.escalations == [
                escalation(
                    .criticalIntake, level: 1, note: "A customer follow-up names a critical matter.", actor: nil,
                    question: change.question
                )
            ]
        )
    }

    @Test("A critical follow-up on an answered volunteer question: the new peer window stops, next_response starts")
    func followUpCriticalAnswered() throws {
        let change = try customerMessage(snapshot(question(answered: true)), routing: FollowUpRouting(critical: true))
        #expect(
            change.trail == [
                "message(customer)", "startTimer(peer_window)", "question.customer_replied", "endClaim(moved)",
                "endTimers(peer_window as stopped)", "startTimer(resolution)", "startTimer(next_response)",
                "question.routed", "escalation(critical_intake)",
            ]
        )
        #expect(change.startedTimers.last == staffTimer(.nextResponse, hours: 0.5, from: now))
    }

    @Test("A critical follow-up on a staff-tier question escalates without moving it")
    func followUpCriticalOnStaffTier() throws {
        let change = try customerMessage(snapshot(question(tier: .staff)), routing: FollowUpRouting(critical: true))
        #expect(change.trail == ["message(customer)", "question.customer_replied", "escalation(critical_intake)"])
        #expect(change.question.priority == .critical)
        #expect(change.record.tallies.movedToStaffAt == nil)
    }

    @Test("A follow-up naming a staff-only topic moves the question to staff without escalating")
    func followUpStaffOnlyTopic() throws {
        let change = try customerMessage(snapshot(question()), routing: FollowUpRouting(staffOnlyTopic: "billing"))
        #expect(
            change.trail == [
                "message(customer)", "question.customer_replied", "endClaim(moved)", "endTimers(peer_window as stopped)",
                "startTimer(first_response)", "startTimer(resolution)", "question.routed",
            ]
        )
        #expect(change.question.tier == .staff)
        #expect(change.question.priority == .normal)
        #expect(change.events[1].data == ["tier": "staff", "reason": "staff_only_follow_up"])
        #expect(change.escalations.isEmpty)
    }

    // MARK: - Resolve

    @Test("A volunteer holder resolves after replying: claim ends, resolution met, other clocks stopped, rating issued")
    func volunteerResolves() throws {
        let grant = ratingGrant()
        let change = try QuestionCommands.resolve(
            snapshot(claimed(by: "h_vol", answered: true), lastReplier: Replier(id: "h_vol", role: .volunteer)),
            by: volunteer, note: nil, rating: grant, context: context()
        )

        #expect(
            change.trail == [
                "endClaim(resolved)", "endTimers(resolution as met)",
                "endTimers(peer_window,first_response,next_response as stopped)", "issueRating", "question.resolved",
                // A solved question's signature is kept to be offered as a similar answer.
                "keepSignature",
            ]
        )
        #expect(change.effects[0] == .endClaim(.resolved, at: now))
        #expect(change.effects[1] == .endTimers([.resolution], as: .met, at: now))
        #expect(change.effects[2] == .endTimers([.peerWindow, .firstResponse, .nextResponse], as: .stopped, at: now))
        #expect(change.effects[3] == .issueRating(RatingIssue(grant: grant, helperId: "h_vol", helperTier: .volunteer)))
        #expect(change.question.state == .resolved)
        #expect(change.question.holderId == nil)
        #expect(change.question.leaseExpiresAt == nil)
        #expect(change.question.resolvedAt == now)
        #expect(change.question.resolvedBy == "h_vol")
        let resolved = change.events[0]
        #expect(resolved.actorId == "h_vol")
        // The link is the customer's: only a placeholder goes out, and the timeline never keeps it. The credit does.
        #expect(resolved.data == ["tier": "volunteer", "helper_id": "h_vol"])
        #expect(resolved.outbound == ["rating_url": RatingLinks.placeholder(questionId: "q_1", issuedAt: grant.issuedAt)])
    }

    @Test("Resolve refusals: unanswered or waiting (volunteer), not the holder, integration, resolved already")
    func resolveRefusals() {
        let ctx = context()
        func resolve(_ snapshot: QuestionSnapshot, by actor: Helper, note: String? = nil) throws -> QuestionChange {
            try QuestionCommands.resolve(snapshot, by: actor, note: note, rating: nil, context: ctx)
        }
        expectRefusal("no_answer_yet", .conflict) { try resolve(snapshot(claimed(by: "h_vol")), by: volunteer) }
        expectRefusal("no_answer_yet", .conflict) {
            try resolve(snapshot(claimed(by: "h_vol")), by: volunteer, note: "spam")
        }
        expectRefusal("no_answer_yet", .conflict) {
            try resolve(
                snapshot(claimed(by: "h_vol", answered: true), QuestionTallies(awaitingReplySince: now)), by: volunteer
            )
        }
        expectRefusal("not_holder", .conflict) { try resolve(snapshot(question(answered: true)), by: volunteer) }
        expectRefusal("role_cannot_resolve", .forbidden) { try resolve(snapshot(question(answered: true)), by: chat) }
        expectRefusal("already_resolved", .conflict) {
            try resolve(snapshot(question(state: .resolved, answered: true)), by: staff)
        }
        expectRefusal("note_required", .unprocessable) { try resolve(snapshot(question(tier: .staff)), by: staff) }
    }

    @Test("Staff resolve an unanswered question with a note, which goes into the event; nobody is credited without a reply")
    func staffResolvesWithNote() throws {
        let grant = ratingGrant()
        for actor in [staff, admin] {
            let change = try QuestionCommands.resolve(
                snapshot(question(tier: .staff)), by: actor, note: "Duplicate of q_0", rating: grant, context: context()
            )
            #expect(change.events[0].data == ["tier": "staff", "note": "Duplicate of q_0"])
            #expect(change.effects[3] == .issueRating(RatingIssue(grant: grant, helperId: nil, helperTier: nil)))
            #expect(change.record.tallies.creditedHelperId == nil)
        }
    }

    @Test("Staff may resolve while a follow-up waits; the wait ends with the resolution")
    func staffResolvesWhileWaiting() throws {
        let change = try QuestionCommands.resolve(
            snapshot(question(tier: .staff, answered: true), QuestionTallies(awaitingReplySince: now.addingTimeInterval(-60))),
            by: staff, note: nil, rating: nil, context: context()
        )
        #expect(change.record.tallies.awaitingReplySince == nil)
        #expect(change.question.state == .resolved)
    }

    @Test("The rating credits the latest replier over the resolver, with the replier's tier")
    func ratingCreditsLastReplier() throws {
        let grant = ratingGrant()
        let cases: [(Replier, Tier)] = [
            (Replier(id: "h_other", role: .volunteer), .volunteer), (Replier(id: "h_admin", role: .admin), .staff),
        ]
        for (replier, tier) in cases {
            let change = try QuestionCommands.resolve(
                snapshot(question(answered: true), lastReplier: replier), by: staff, note: nil, rating: grant,
                context: context()
            )
            #expect(change.effects[3] == .issueRating(RatingIssue(grant: grant, helperId: replier.id, helperTier: tier)))
        }
    }

    @Test("No rating link when the question was rated already or no grant is given: no placeholder either")
    func noRatingWhenRatedOrNoGrant() throws {
        let rated = try QuestionCommands.resolve(
            snapshot(question(answered: true), lastReplier: Replier(id: "h_vol", role: .volunteer), rated: true),
            by: staff, note: nil, rating: ratingGrant(), context: context()
        )
        let ungranted = try QuestionCommands.resolve(
            snapshot(question(answered: true)), by: staff, note: nil, rating: nil, context: context()
        )
        for change in [rated, ungranted] {
            #expect(!change.trail.contains("issueRating"))
            #expect(change.events[0].outbound.isEmpty)
        }
        #expect(rated.events[0].data == ["tier": "volunteer", "helper_id": "h_vol"])
        #expect(ungranted.events[0].data == ["tier": "volunteer"])
    }

    // MARK: - Reopen

    @Test("Reopening a staff-tier question restarts its staff clocks: first response only when unanswered")
    func reopenStaffTier() throws {
        let answered = try QuestionCommands.reopen(
            snapshot(question(tier: .staff, state: .resolved, answered: true)), by: staff, context: context()
        )
        #expect(answered.trail == ["startTimer(resolution)", "question.reopened"])
        #expect(answered.startedTimers == [staffTimer(.resolution, hours: 48, from: now)])
        #expect(answered.question.state == .open)
        #expect(answered.question.resolvedAt == nil)
        #expect(answered.question.resolvedBy == nil)
        #expect(answered.events[0].data == ["reason": "requested"])
        #expect(answered.events[0].actorId == "h_staff")

        let unanswered = try QuestionCommands.reopen(
            snapshot(question(tier: .staff, state: .resolved)), by: admin, context: context()
        )
        #expect(unanswered.trail == ["startTimer(first_response)", "startTimer(resolution)", "question.reopened"])
    }

    @Test("Reopening an unanswered volunteer question starts a new peer window and deadline; an answered one none")
    func reopenVolunteerTier() throws {
        let change = try QuestionCommands.reopen(snapshot(question(state: .resolved)), by: staff, context: context())
        #expect(change.trail == ["startTimer(peer_window)", "question.reopened"])
        #expect(
            change.startedTimers == [
                SLATimer(target: .peerWindow, startedAt: now, warnAt: nil, dueAt: now.addingTimeInterval(7200))
            ]
        )
        #expect(change.question.peerDeadlineAt == now.addingTimeInterval(7200))

        let answered = try QuestionCommands.reopen(
            snapshot(question(state: .resolved, answered: true)), by: staff, context: context()
        )
        #expect(answered.trail == ["question.reopened"])
        #expect(answered.question.peerDeadlineAt == createdAt.addingTimeInterval(7200))
    }

    @Test("Reopen is for staff, admins, the resolver and the origin integration; only a resolved question reopens")
    func reopenPermissions() throws {
        let resolved = question(state: .resolved, answered: true, resolvedBy: "h_vol")
        for actor in [staff, admin, volunteer, chat] {
            let change = try QuestionCommands.reopen(snapshot(resolved), by: actor, context: context())
            #expect(change.question.state == .open, "\(actor.id)")
        }
        expectRefusal("cannot_reopen", .forbidden) {
            try QuestionCommands.reopen(snapshot(resolved), by: helper("h_other", .volunteer), context: context())
        }
        expectRefusal("question_not_found", .notFound) {
            try QuestionCommands.reopen(snapshot(resolved), by: helper("int_other", .integration), context: context())
        }
        expectRefusal("not_resolved", .conflict) {
            try QuestionCommands.reopen(snapshot(question()), by: staff, context: context())
        }
    }

    // MARK: - Escalate

    @Test("A volunteer holder hands off: the question moves to staff and a handoff escalation is raised once")
    func volunteerHandoff() throws {
        let change = try QuestionCommands.escalate(
            snapshot(claimed(by: "h_vol")), by: volunteer, level: 1, note: "Needs a refund", context: context()
        )

        #expect(
            change.trail == [
                "endClaim(handoff)", "endTimers(peer_window as stopped)", "startTimer(first_response)",
                "startTimer(resolution)", "question.routed", "escalation(handoff)",
            ]
        )
        #expect(change.effects[0] == .endClaim(.handoff, at: now))
        #expect(change.effects[1] == .endTimers([.peerWindow], as: .stopped, at: now))
        #expect(
            change.startedTimers == [staffTimer(.firstResponse, hours: 4, from: now), staffTimer(.resolution, hours: 48, from: now)]
        )
        #expect(change.question.tier == .staff)
        #expect(change.question.state == .open)
        #expect(change.question.holderId == nil)
        #expect(change.question.leaseExpiresAt == nil)
        #expect(change.record.tallies.movedToStaffAt == now)
        #expect(change.events[0].data == ["tier": "staff", "reason": "handoff", "former_holder_id": "h_vol"])
        #expect(
            change.escalations == [
                escalation(
                    .handoff, level: 1, note: "Needs a refund", actor: "h_vol",
                    ifExists: .conflict("already_escalated", "Question q_1 already has a handoff escalation at level 1."),
                    question: change.question
                )
            ]
        )
    }

    @Test("Staff escalate by hand at the level they choose; a volunteer-tier question moves to staff first")
    func staffManualEscalation() throws {
        let onStaffTier = try QuestionCommands.escalate(
            snapshot(question(tier: .staff)), by: staff, level: 2, note: "Lead please", context: context()
        )
        #expect(onStaffTier.trail == ["escalation(manual)"])
        #expect(onStaffTier.escalations[0].level == 2)
        #expect(onStaffTier.escalations[0].reason == .manual)
        #expect(onStaffTier.escalations[0].ifExists?.code == "already_escalated")

        let onVolunteerTier = try QuestionCommands.escalate(
            snapshot(question()), by: staff, level: 1, note: "Mine now", context: context()
        )
        #expect(
            onVolunteerTier.trail == [
                "endClaim(moved)", "endTimers(peer_window as stopped)", "startTimer(first_response)",
                "startTimer(resolution)", "question.routed", "escalation(manual)",
            ]
        )
        #expect(onVolunteerTier.events[0].data == ["tier": "staff", "reason": "moved"])
    }

    @Test("Escalate refusals: a volunteer without a live claim, integration, resolved")
    func escalateRefusals() {
        let ctx = context()
        expectRefusal("not_holder", .conflict) {
            try QuestionCommands.escalate(snapshot(question()), by: volunteer, level: 1, note: "n", context: ctx)
        }
        expectRefusal("role_cannot_escalate", .forbidden) {
            try QuestionCommands.escalate(snapshot(question()), by: chat, level: 1, note: "n", context: ctx)
        }
        expectRefusal("question_resolved", .conflict) {
            try QuestionCommands.escalate(
                snapshot(question(state: .resolved, answered: true)), by: staff, level: 1, note: "n", context: ctx
            )
        }
    }

    // MARK: - Rate

    @Test("A used rating link is already_rated; an expired one (at its instant) is rating_expired")
    func rateRefusals() {
        let resolved = snapshot(question(state: .resolved, answered: true))
        expectRefusal("already_rated", .conflict) {
            try QuestionCommands.rate(
                resolved, rating: storedRating(expiresAt: now.addingTimeInterval(86400), score: 4), score: 5,
                comment: nil, context: context()
            )
        }
        expectRefusal("rating_expired", .notFound) {
            try QuestionCommands.rate(
                resolved, rating: storedRating(expiresAt: now), score: 5, comment: nil, context: context()
            )
        }
    }

    @Test("A score is recorded with a rated event; 1 and 2 escalate low_rating, 3 to 5 do not")
    func rateScores() throws {
        let resolved = snapshot(question(state: .resolved, answered: true))
        for score in 1...5 {
            let change = try QuestionCommands.rate(
                resolved, rating: storedRating(expiresAt: now.addingTimeInterval(1)), score: score, comment: "ok",
                context: context()
            )
            let low = score <= 2
            #expect(
                change.trail == ["recordScore", "question.rated"] + (low ? ["escalation(low_rating)"] : []), "score \(score)"
            )
            #expect(change.effects[0] == .recordScore(score: score, comment: "ok", solved: nil, at: now))
            #expect(change.events[0].actorId == nil)
            #expect(change.events[0].data == ["score": String(score), "helper_id": "h_vol", "helper_tier": "volunteer"])
            #expect(!change.writesRow)
            if low {
                #expect(change.escalations[0].note == "The customer rated the answer \(score) of 5.")
                #expect(change.escalations[0].level == 1)
            }
        }
    }

    @Test("A rating credited to nobody records empty helper facts")
    func rateUncredited() throws {
        let rating = StoredRating(
            questionId: "q_1", expiresAt: now.addingTimeInterval(1), helperId: nil, helperTier: nil, score: nil
        )
        let change = try QuestionCommands.rate(
            snapshot(question(state: .resolved)), rating: rating, score: 4, comment: nil, context: context()
        )
        #expect(change.events[0].data == ["score": "4", "helper_id": "", "helper_tier": ""])
    }

    // MARK: - Sweep

    @Test("A peer window due on an unanswered volunteer question moves it to staff and escalates peer_window_expired")
    func sweepPeerWindowMovesToStaff() {
        let change = QuestionCommands.sweep(
            snapshot(claimed(by: "h_vol")), clock: dueClock(.peerWindow, .running, dueAt: now), context: context()
        )

        #expect(
            change.trail == [
                "endTimers(peer_window as breached)", "endClaim(moved)", "endTimers(peer_window as stopped)",
                "startTimer(first_response)", "startTimer(resolution)", "question.routed", "escalation(peer_window_expired)",
            ]
        )
        #expect(change.effects[0] == .endTimers([.peerWindow], as: .breached, at: now))
        #expect(change.question.tier == .staff)
        #expect(change.question.holderId == nil)
        #expect(change.record.tallies.movedToStaffAt == now)
        #expect(change.events[0].data == ["tier": "staff", "reason": "moved", "former_holder_id": "h_vol"])
        #expect(change.escalations[0].note == "No volunteer answered within the peer window.")
        #expect(change.escalations[0].level == 1)
        var outcome = SweepOutcome()
        outcome.examined = 1
        outcome.movedToStaff = 1
        #expect(change.outcome == outcome)
    }

    @Test("A peer window due on an answered question with a waiting follow-up moves it too, with next_response")
    func sweepPeerWindowWaitingFollowUp() {
        let change = QuestionCommands.sweep(
            snapshot(question(answered: true), QuestionTallies(awaitingReplySince: now.addingTimeInterval(-7200))),
            clock: dueClock(.peerWindow, .running, dueAt: now), context: context()
        )
        #expect(change.startedTimers.map(\.target) == [.resolution, .nextResponse])
        #expect(change.outcome.movedToStaff == 1)
    }

    @Test("A peer window with nothing left to do (answered, resolved, or on staff) just stops")
    func sweepPeerWindowStops() {
        let clock = dueClock(.peerWindow, .running, dueAt: now)
        for idle in [question(answered: true), question(state: .resolved), question(tier: .staff)] {
            let change = QuestionCommands.sweep(snapshot(idle), clock: clock, context: context())
            #expect(change.effects == [.endTimers([.peerWindow], as: .stopped, at: now)])
            #expect(!change.writesRow)
            #expect(change.outcome.examined == 1)
            #expect(change.outcome.movedToStaff == 0)
        }
    }

    @Test("A staff clock past due is breached: no further checks, sla.breached and an sla_breached escalation at level 2")
    func sweepBreach() {
        let dueAt = now.addingTimeInterval(-60)
        let change = QuestionCommands.sweep(
            snapshot(question(tier: .staff)), clock: dueClock(.firstResponse, .warned, dueAt: dueAt), context: context()
        )

        #expect(change.effects[0] == .markTimer(.firstResponse, status: .breached, nextCheckAt: nil))
        #expect(change.trail == ["markTimer(first_response breached)", "sla.breached", "escalation(sla_breached)"])
        #expect(change.events[0].data == ["target": "first_response", "due_at": ms(dueAt)])
        #expect(
            change.escalations == [
                escalation(
                    .slaBreached, level: 2, note: "The first_response target was breached.", actor: nil, question: question(tier: .staff)
                )
            ]
        )
        #expect(change.record.tallies.nextResponseBreaches == 0)
        var outcome = SweepOutcome()
        outcome.examined = 1
        outcome.breaches = 1
        #expect(change.outcome == outcome)
    }

    @Test("Only a breached next_response clock counts towards next-response breaches; due exactly now is breached")
    func sweepNextResponseBreach() {
        let change = QuestionCommands.sweep(
            snapshot(question(tier: .staff, answered: true), QuestionTallies(nextResponseBreaches: 1)),
            clock: dueClock(.nextResponse, .warned, dueAt: now), context: context()
        )
        #expect(change.record.tallies.nextResponseBreaches == 2)
        #expect(change.effects[0] == .markTimer(.nextResponse, status: .breached, nextCheckAt: nil))
    }

    @Test("A late sweep breaches a never-warned clock directly, without a warning")
    func sweepLateBreachSkipsWarning() {
        let change = QuestionCommands.sweep(
            snapshot(question(tier: .staff)), clock: dueClock(.resolution, .running, dueAt: now.addingTimeInterval(-1)),
            context: context()
        )
        #expect(change.trail == ["markTimer(resolution breached)", "sla.breached", "escalation(sla_breached)"])
        #expect(change.outcome.warnings == 0)
    }

    @Test("A running clock before its due time warns: next check at due, sla.warning and an sla_warning escalation")
    func sweepWarning() {
        let dueAt = now.addingTimeInterval(900)
        let change = QuestionCommands.sweep(
            snapshot(question(tier: .staff)), clock: dueClock(.resolution, .running, dueAt: dueAt), context: context()
        )

        #expect(change.effects[0] == .markTimer(.resolution, status: .warned, nextCheckAt: dueAt))
        #expect(change.trail == ["markTimer(resolution warned)", "sla.warning", "escalation(sla_warning)"])
        #expect(change.events[0].data == ["target": "resolution", "due_at": ms(dueAt)])
        #expect(change.escalations[0].level == 1)
        #expect(change.escalations[0].note == "The resolution target is due at \(dueAt.formatted(.iso8601)).")
        var outcome = SweepOutcome()
        outcome.examined = 1
        outcome.warnings = 1
        #expect(change.outcome == outcome)
    }

    @Test("A warned clock not yet due is looked at again when it falls due, with no event")
    func sweepWarnedNotDue() {
        let dueAt = now.addingTimeInterval(900)
        let change = QuestionCommands.sweep(
            snapshot(question(tier: .staff)), clock: dueClock(.firstResponse, .warned, dueAt: dueAt), context: context()
        )
        #expect(change.effects == [.markTimer(.firstResponse, status: .warned, nextCheckAt: dueAt)])
        var outcome = SweepOutcome()
        outcome.examined = 1
        #expect(change.outcome == outcome)
    }
}

// MARK: - Fixtures

extension QuestionCommandsTests {
    /// Peer windows of 4/2/1 h and 15 min; staff targets in hours below; warnings at 75 %; staff always open, so
    /// business time is calendar time and due times are plain sums.
    static let policy = Policy(
        topics: [Policy.Topic(name: "general", keywords: [])], defaultTopic: "general", staffOnlyTopics: ["billing"],
        criticalKeywords: [], languages: ["en"], defaultLanguage: "en",
        peerWindow: [.low: 4 * 3600, .normal: 2 * 3600, .high: 3600, .critical: 900], claimLease: 1800,
        defaultCapacity: [.volunteer: 3, .staff: 10],
        staffTargets: [
            .firstResponse: [.low: 8 * 3600, .normal: 4 * 3600, .high: 2 * 3600, .critical: 3600],
            .nextResponse: [.low: 4 * 3600, .normal: 2 * 3600, .high: 3600, .critical: 1800],
            .resolution: [.low: 72 * 3600, .normal: 48 * 3600, .high: 24 * 3600, .critical: 12 * 3600],
        ],
        warningThreshold: 0.75, businessHours: .alwaysOpen
    )

    func context(at time: Date? = nil) -> ChangeContext {
        ChangeContext(now: time ?? now, planner: SLAPlanner(policy: Self.policy), ids: CountingIdentifiers())
    }

    func helper(_ id: String, _ role: Role) -> Helper {
        Helper(
            id: id, handle: id, displayName: id, role: role, skills: [], languages: ["en"], capacity: 3,
            presence: .available, active: true, createdAt: createdAt, updatedAt: createdAt
        )
    }

    var volunteer: Helper { helper("h_vol", .volunteer) }
    var staff: Helper { helper("h_staff", .staff) }
    var admin: Helper { helper("h_admin", .admin) }
    /// The integration the question came from (its channel).
    var chat: Helper { helper("int_chat", .integration) }

    /// Question q_1 from the `int_chat` integration; on the volunteer tier its peer deadline is 2 h after submission.
    func question(
        tier: Tier = .volunteer, state: QuestionState = .open, priority: Priority = .normal, answered: Bool = false,
        resolvedBy: String? = nil
    ) -> Question {
        Question(
            id: "q_1", subject: "Roaming abroad", customer: Customer(id: "c_1", name: "Ada"), channel: "int_chat",
            topic: "general", language: "en", priority: priority, tier: tier, state: state,
            peerDeadlineAt: tier == .volunteer ? createdAt.addingTimeInterval(7200) : nil,
            firstResponseAt: answered ? firstReplyAt : nil, resolvedAt: state == .resolved ? now.addingTimeInterval(-60) : nil,
            resolvedBy: resolvedBy, createdBy: "int_chat", createdAt: createdAt, updatedAt: createdAt
        )
    }

    /// The question claimed by `holder`, with a lease that runs 10 minutes past now unless `until` says otherwise.
    func claimed(by holder: String, until expiry: Date? = nil, tier: Tier = .volunteer, answered: Bool = false) -> Question {
        var claimed = question(tier: tier, state: .claimed, answered: answered)
        claimed.holderId = holder
        claimed.leaseExpiresAt = expiry ?? now.addingTimeInterval(600)
        return claimed
    }

    func snapshot(
        _ question: Question, _ tallies: QuestionTallies = QuestionTallies(), expiredHolderReplied: Bool? = nil,
        activeClaims: Int = 0, holderHandle: String? = nil, recent: [Date] = [], lastReplier: Replier? = nil,
        rated: Bool = false
    ) -> QuestionSnapshot {
        QuestionSnapshot(
            record: QuestionRecord(question: question, tallies: tallies), expiredHolderReplied: expiredHolderReplied,
            activeClaims: activeClaims, holderHandle: holderHandle, recentFollowUps: recent, lastReplier: lastReplier,
            rated: rated
        )
    }

    /// A plain follow-up "Still broken" (m_3) from `int_chat`, or from `actor`.
    func customerMessage(
        _ snapshot: QuestionSnapshot, by actor: Helper? = nil, routing: FollowUpRouting = FollowUpRouting()
    ) throws -> QuestionChange {
        try QuestionCommands.customerMessage(
            snapshot, by: actor ?? chat, messageId: "m_3", body: "Still broken", origin: nil, routing: routing,
            idempotency: nil, context: context()
        )
    }

    /// A staff clock as the policy should plan it on the always-open calendar: warned at 75 %, due after `hours`.
    func staffTimer(_ target: SLATarget, hours: Double, from start: Date) -> SLATimer {
        SLATimer(
            target: target, startedAt: start, warnAt: start.addingTimeInterval(hours * 3600 * 0.75),
            dueAt: start.addingTimeInterval(hours * 3600)
        )
    }

    /// The escalation a command raises as the first id of a fresh context (`esc_1`), at `at` (default now).
    func escalation(
        _ reason: EscalationReason, level: Int, note: String?, actor: String?, at time: Date? = nil,
        ifExists: PatenError? = nil, question: Question
    ) -> EscalationDraft {
        let at = time ?? now
        return EscalationDraft(
            id: "esc_1", reason: reason, level: level, note: note, actorId: actor, at: at, ifExists: ifExists,
            event: TimelineFact(
                .escalated, actor: actor, at: at, ["escalation_id": "esc_1", "reason": reason.rawValue, "level": String(level)],
                question: question
            )
        )
    }

    func webhookOrigin() -> InboundOrigin {
        InboundOrigin(
            integrationId: "int_chat", webhookId: "wh_1", conversationId: "C1/T1", externalMessageId: "ext_1",
            sentAt: createdAt.addingTimeInterval(-5)
        )
    }

    func idempotencyReservation(route: String) throws -> IdempotencyReservation {
        IdempotencyReservation(
            scope: IdempotencyScope(accountId: "int_chat", route: route, key: try IdempotencyKey("key-1")), token: "tok_1"
        )
    }

    func ratingGrant() -> RatingGrant {
        RatingGrant(tokenHash: "hash", issuedAt: now, expiresAt: now.addingTimeInterval(RatingLinks.lifetime))
    }

    func storedRating(expiresAt: Date, score: Int? = nil) -> StoredRating {
        StoredRating(questionId: "q_1", expiresAt: expiresAt, helperId: "h_vol", helperTier: .volunteer, score: score)
    }

    func dueClock(_ target: SLATarget, _ status: SLAStatus, dueAt: Date) -> DueClock {
        DueClock(questionId: "q_1", target: target, status: status, dueAt: dueAt)
    }

    func ms(_ date: Date) -> String { String(date.millisecondsSince1970) }

    /// Runs a command that must be refused, checks the refusal's code, kind and (if given) details, and returns it.
    @discardableResult
    func expectRefusal(
        _ code: String, _ kind: PatenError.Kind, details: [String: String]? = nil,
        sourceLocation: SourceLocation = #_sourceLocation, _ command: () throws -> QuestionChange
    ) -> PatenError? {
        do {
            let change = try command()
            Issue.record("Expected the refusal \(code), got \(change.trail)", sourceLocation: sourceLocation)
            return nil
        } catch let error as PatenError {
            #expect(error.code == code, sourceLocation: sourceLocation)
            #expect(error.kind == kind, sourceLocation: sourceLocation)
            if let details { #expect(error.details == details, sourceLocation: sourceLocation) }
            return error
        } catch {
            Issue.record("Expected the refusal \(code), got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}

/// Ids `esc_1`, `esc_2`, … in the order they are made, so drafts can be compared whole.
final class CountingIdentifiers: IdentifierGenerator {
    private let count = Mutex(0)

    func make(_ prefix: String) -> String {
        count.withLock { count in
            count += 1
            return "\(prefix)_\(count)"
        }
    }
}

extension QuestionChange {
    /// The effects in order, each as a short label (`startTimer(peer_window)`, `question.routed`, …): what a test
    /// reads to pin which writes a command makes and in which order.
    var trail: [String] {
        effects.map { effect in
            switch effect {
            case .message(let message): "message(\(message.authorKind.rawValue))"
            case .startClaim: "startClaim"
            case .renewClaim: "renewClaim"
            case .endClaim(let end, _): "endClaim(\(end.rawValue))"
            case .startTimer(let timer, let onlyIfEnded): "startTimer(\(timer.target.rawValue)\(onlyIfEnded ? ", onlyIfEnded" : ""))"
            case .endTimers(let targets, let status, _):
                "endTimers(\(targets.map(\.rawValue).joined(separator: ",")) as \(status.rawValue))"
            case .markTimer(let target, let status, _): "markTimer(\(target.rawValue) \(status.rawValue))"
            case .event(let fact): fact.type.rawValue
            case .escalation(let draft): "escalation(\(draft.reason.rawValue))"
            case .issueRating: "issueRating"
            case .recordScore: "recordScore"
            case .receipt: "receipt"
            case .conversation: "conversation"
            case .idempotentWrite: "idempotentWrite"
            case .points(let entry): "points(\(entry.reason.rawValue) \(entry.amount))"
            case .setLevel(_, let level): "setLevel(\(level))"
            case .badge(_, let key, _): "badge(\(key))"
            case .pauseHelper: "pauseHelper"
            case .signature(let group, _, _): "signature(\(group))"
            case .keepSignature: "keepSignature"
            case .openIncident: "openIncident"
            case .linkIncident(let link): "link(\(link.questionId) \(link.kind.rawValue))"
            case .unlinkIncident(let id): "unlink(\(id))"
            case .redact(let redaction): "redact(\(redaction.reason.rawValue))"
            }
        }
    }

    /// The clocks the change starts, in order.
    fileprivate var startedTimers: [SLATimer] {
        effects.compactMap { if case .startTimer(let timer, _) = $0 { timer } else { nil } }
    }
}
