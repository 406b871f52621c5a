import Foundation
import PatenCore
import Testing

/// Similarity signatures, the surge test and the incident commands, without a database.
@Suite("Surges and incidents")
struct SurgeRulesTests {
    let now = Date(millisecondsSince1970: 1_795_000_000_000)
    let stopWords = StopWords(languages: ["en", "de"])

    func signature(_ text: String) -> SimilaritySignature { SimilaritySignature(text: text, stopWords: stopWords) }

    var context: ChangeContext {
        ChangeContext(now: now, planner: SLAPlanner(policy: QuestionCommandsTests.policy), ids: CountingIdentifiers())
    }

    func question(_ id: String, _ subject: String, state: QuestionState = .open, at time: Date? = nil) -> Question {
        Question(
            id: id, subject: subject, customer: Customer(id: "c_\(id)", name: "Ada"), channel: "int_chat",
            topic: "general", language: "en", priority: .normal, tier: .volunteer, state: state,
            peerDeadlineAt: (time ?? now).addingTimeInterval(7200), createdBy: "int_chat", createdAt: time ?? now,
            updatedAt: time ?? now
        )
    }

    func member(_ id: String, _ subject: String, minutesAgo: Double, incident: String? = nil) -> GroupMember {
        let sig = signature(subject)
        return GroupMember(
            question: question(id, subject, at: now.addingTimeInterval(-minutesAgo * 60)), terms: sig.terms,
            bands: sig.bands, incidentId: incident, incidentOpen: incident != nil
        )
    }

    var staff: Helper {
        Helper(
            id: "h_staff", handle: "sam", displayName: "Sam", role: .staff, skills: [], languages: ["en"], capacity: 10,
            presence: .available, active: true, createdAt: now, updatedAt: now
        )
    }

    // MARK: Signatures

    @Test("Terms fold case, accents and German spellings, and leave out stop words and one-letter words")
    func normalisation() {
        #expect(signature("Kein mobiles Internet seit heute Morgen!").terms == ["heut", "internet", "kein", "mobil", "morg"])
        // Inflections are one term.
        #expect(signature("Keine mobilen Daten").terms == ["date", "kein", "mobil"])
        #expect(signature("funktioniert").terms == signature("funktionieren").terms)
        #expect(signature("KEIN Mobiles INTERNET").terms == signature("kein mobiles internet").terms)
        #expect(signature("Rückerstattung für Müller").terms == signature("Rueckerstattung fur Mueller").terms)
        #expect(signature("I have no data since this morning").terms == ["data", "morn", "no"])
        #expect(signature("the a and of 🙂").isEmpty)
        // Extra stop words from the policy.
        let extra = SimilaritySignature(
            text: "Paten simyo data", stopWords: StopWords(languages: ["en"], extra: ["en": ["simyo"]])
        )
        #expect(extra.terms == ["data", "pate"])
    }

    @Test("Signatures are the same in every process and release: the bands of a known text are pinned")
    func stableBands() {
        let first = signature("No mobile data since this morning")
        #expect(first.bands.count == SimilaritySignature.bands)
        #expect(first == signature("no MOBILE data, since this morning."))
        // Stored signatures are compared across instances and releases: a change to the hashing must be a new
        // migration that recomputes them, not a silent change of these values.
        #expect(first.bands[0] == Self.pinnedFirstBand, "\(first.bands[0])")
        let stored = SimilaritySignature.bands(stored: first.storedBands)
        #expect(stored == first.bands)
        #expect(SimilaritySignature.terms(stored: first.storedTerms) == first.terms)
    }

    static let pinnedFirstBand: Int64 = -5_395_501_531_122_198_459

    @Test("Rewordings share a band and pass the similarity; unrelated questions do not")
    func candidates() {
        let outage = signature("No mobile data since this morning")
        let rewording = signature("Mobile data not working since this morning, no data at all")
        let unrelated = signature("How do I change my tariff to the cheaper one")
        #expect(!Set(outage.bands).isDisjoint(with: rewording.bands))
        #expect(outage.jaccard(rewording.terms) >= SurgePolicy.standard.similarity)
        #expect(Set(outage.bands).isDisjoint(with: unrelated.bands))
        #expect(outage.jaccard(unrelated.terms) == 0)
        #expect(SimilaritySignature.jaccard(["a", "b", "c"], ["b", "c", "d"]) == 0.5)
    }

    // MARK: The surge test

    @Test("The Poisson tail: at least 5 of expected 0.5 is not improbable enough, 6 is")
    func poisson() {
        #expect(SurgeRules.poissonTail(atLeast: 5, expected: 0) == 0)
        #expect(SurgeRules.poissonTail(atLeast: 0, expected: 3) == 1)
        #expect(abs(SurgeRules.poissonTail(atLeast: 6, expected: 0.5) - 1.4164e-5) < 1e-8)
        #expect(SurgeRules.poissonTail(atLeast: 5, expected: 0.5) > 1e-4)
        #expect(SurgeRules.poissonTail(atLeast: 16, expected: 5) < 1e-4)
        #expect(SurgeRules.poissonTail(atLeast: 15, expected: 5) > 1e-4)
        // A large expectation neither underflows nor overflows.
        #expect(SurgeRules.poissonTail(atLeast: 700, expected: 800) > 0.99)
        #expect(SurgeRules.poissonTail(atLeast: 1000, expected: 800) < 1e-10)
    }

    @Test("A verdict counts the window's unlinked questions against the past weeks' mean")
    func verdict() {
        let needs = SurgeNeeds(signature: signature("No mobile data since this morning"), policy: .standard, now: now)
        let members = (0..<4).map { member("q_\($0)", "Mobile data not working this morning", minutesAgo: Double($0)) }
        var verdict = SurgeRules.verdict(needs, members: members, baseline: [[], [], [], []])
        #expect(verdict.observed == 5 && verdict.expected == 0 && verdict.isSurge)
        // One customer asking five times counts once.
        let repeated = members.map {
            var same = $0; same.question.customer = Customer(id: "c_same", name: "Ada"); return same
        }
        let once = SurgeNeeds(signature: needs.signature, policy: .standard, now: now, asker: SurgeRules.asker(repeated[0].question))
        #expect(SurgeRules.verdict(once, members: repeated, baseline: [[]]).observed == 1)
        // Older than the window, or linked to an incident already: not counted.
        let older = members + [member("q_old", "No mobile data", minutesAgo: 30)]
        #expect(SurgeRules.verdict(needs, members: older, baseline: [[]]).observed == 5)
        let handled = members.map {
            var linked = $0; linked.incidentId = "inc_1"; return linked
        }
        verdict = SurgeRules.verdict(needs, members: handled, baseline: [[]])
        #expect(verdict.observed == 1 && !verdict.isSurge)
        // Five a week at this hour, as usual: no surge.
        let usual = (0..<5).map {
            SignatureMatch(
                questionId: "p_\($0)", createdAt: now, groupId: "g", terms: signature("Mobile data not working").terms
            )
        }
        verdict = SurgeRules.verdict(needs, members: members, baseline: [usual, usual, usual, usual])
        #expect(verdict.expected == 5 && !verdict.isSurge)
        // Four windows of the past weeks, the same span of the week.
        let windows = SurgeRules.baselineWindows(needs)
        #expect(windows.count == 4)
        #expect(windows[0].end == now.addingTimeInterval(-7 * 86400))
        #expect(windows[3].duration == 900)
    }

    @Test("Plans: nothing similar, a similar question's open incident, or the similar questions' groups")
    func plans() {
        let needs = SurgeNeeds(signature: signature("No mobile data since this morning"), policy: .standard, now: now)
        let like = signature("No mobile data this morning").terms
        let other = signature("Change my tariff").terms
        #expect(SurgeRules.plan(needs, recent: []) == .alone)
        #expect(SurgeRules.plan(needs, recent: [SignatureMatch(questionId: "q", createdAt: now, groupId: "g", terms: other)]) == .alone)
        let recent = [
            SignatureMatch(questionId: "q_1", createdAt: now, groupId: "g_1", terms: like),
            SignatureMatch(questionId: "q_2", createdAt: now, groupId: "g_2", terms: signature("mobile data").terms),
        ]
        #expect(SurgeRules.plan(needs, recent: recent) == .groups(["g_1", "g_2"]))
        var linked = recent
        linked[1].incidentId = "inc_1"
        #expect(SurgeRules.plan(needs, recent: linked) == .join("inc_1"))
    }

    // MARK: Intake

    func draft(_ subject: String) -> QuestionDraft {
        QuestionDraft(question: question("q_new", subject), body: subject, routingReason: "keywords")
    }

    @Test("Intake opens an incident over the group when the window's count is a surge")
    func intakeOpens() throws {
        let subject = "No mobile data since this morning"
        let needs = SurgeNeeds(signature: signature(subject), policy: .standard, now: now)
        let members = (0..<4).map { member("q_\($0)", "Mobile data not working this morning", minutesAgo: Double($0)) }
        let snapshot = SurgeSnapshot(
            recent: members.map {
                SignatureMatch(questionId: $0.question.id, createdAt: $0.question.createdAt, groupId: "q_0", terms: $0.terms)
            },
            members: members, groupCount: 4, baseline: [[], [], [], []]
        )
        let change = QuestionCommands.intake(
            draft(subject), messageId: "m_1", idempotency: nil, surge: needs, snapshot: snapshot, context: context
        )
        let start = try #require(change.trail.firstIndex(of: "signature(q_0)"), "\(change.trail)")
        #expect(
            Array(change.trail[start...]) == [
                "signature(q_0)", "openIncident", "link(q_0 detected)", "incident.linked", "link(q_1 detected)",
                "incident.linked", "link(q_2 detected)", "incident.linked", "link(q_3 detected)", "incident.linked",
                "link(q_new detected)", "incident.linked", "incident.opened", "escalation(surge)",
            ]
        )
        #expect(change.escalations.map(\.reason) == [.surge])
        let opened = change.effects.compactMap { if case .openIncident(let incident) = $0 { incident } else { nil } }
        #expect(opened.first?.observed == 5)
        #expect(opened.first?.anchorQuestionId == "q_new")
        #expect(opened.first?.topTerms.contains("data") == true)
        // The title is a volunteer-tier subject, contact data masked.
        #expect(opened.first.map { !$0.title.isEmpty && !$0.title.contains("@") } == true)
        // Attack: a staff-tier question (billing, fraud) most like the others never names the incident, which
        // volunteers see on every linked question.
        var secret = members
        for index in secret.indices { secret[index].question.tier = .staff }
        secret[0].question.subject = "Fraud case of Ada Lovelace, account 12345678"
        let staffOnly = QuestionCommands.intake(
            draft(subject), messageId: "m_1", idempotency: nil, surge: needs,
            snapshot: SurgeSnapshot(members: secret, groupCount: 4, baseline: [[], [], [], []]), context: context
        )
        let titles = staffOnly.effects.compactMap { if case .openIncident(let incident) = $0 { incident.title } else { nil } }
        #expect(titles == [subject], "\(titles)")
        // The linked members' events are in their own timelines.
        let memberEvents = change.events.filter { $0.type == .incidentLinked }.map(\.question.id)
        #expect(memberEvents == ["q_0", "q_1", "q_2", "q_3", "q_new"])
    }

    @Test("Intake joins an open incident and sends its latest update; a small group opens nothing")
    func intakeJoins() {
        let subject = "No mobile data since this morning"
        let needs = SurgeNeeds(signature: signature(subject), policy: .standard, now: now)
        let incident = Incident(
            id: "inc_1", state: .open, title: "Outage", topTerms: ["data"], observed: 5, expected: 0, probability: 0,
            window: 900, anchorQuestionId: "q_0", openedAt: now, updatedAt: now
        )
        let update = IncidentUpdate(
            id: "upd_1", incidentId: "inc_1", kind: .update, body: "We are on it.", createdBy: "h_staff", createdAt: now
        )
        let joined = QuestionCommands.intake(
            draft(subject), messageId: "m_1", idempotency: nil, surge: needs,
            snapshot: SurgeSnapshot(join: IncidentJoin(incident: incident, latestUpdate: update, author: staff)),
            context: context
        )
        #expect(joined.trail.contains("link(q_new joined)"))
        #expect(joined.messages.map(\.body) == [subject, "We are on it."])
        #expect(joined.question.firstResponseAt == now)
        let replied = joined.events.first { $0.type == .replied }
        #expect(replied?.data["incident_update_id"] == "upd_1")
        #expect(joined.escalations.isEmpty)

        let members = (0..<2).map { member("q_\($0)", "Mobile data not working this morning", minutesAgo: 1) }
        let small = QuestionCommands.intake(
            draft(subject), messageId: "m_1", idempotency: nil, surge: needs,
            snapshot: SurgeSnapshot(members: members, groupCount: 2), context: context
        )
        #expect(!small.trail.contains("openIncident"))
        #expect(small.trail.contains("signature(q_new)"))
    }

    // MARK: Incident commands

    func incident(_ state: IncidentState = .open) -> Incident {
        Incident(
            id: "inc_1", state: state, title: "Outage", topTerms: ["data"], observed: 5, expected: 0, probability: 0,
            window: 900, anchorQuestionId: "q_0", openedAt: now, mergedInto: state == .merged ? "inc_2" : nil,
            updatedAt: now
        )
    }

    func linked() -> [QuestionSnapshot] {
        [
            QuestionSnapshot(record: QuestionRecord(question: question("q_0", "No data"))),
            QuestionSnapshot(record: QuestionRecord(question: question("q_1", "No data", state: .resolved))),
            QuestionSnapshot(record: QuestionRecord(question: question("q_2", "No data"))),
        ]
    }

    @Test("An update is one reply on every open linked question; the anchor records it")
    func update() throws {
        let snapshot = IncidentSnapshot(incident: incident(), questions: linked())
        let change = try IncidentCommands.postUpdate(snapshot, body: "On it.", by: staff, context: context)
        #expect(change.update?.body == "On it.")
        #expect(change.questions.map(\.question.id) == ["q_0", "q_2"])
        #expect(change.questions.allSatisfy { $0.messages.map(\.body) == ["On it."] })
        #expect(change.questions[0].events.map(\.type) == [.replied, .incidentUpdated])
        #expect(change.questions[1].events.map(\.type) == [.replied])
        for state in [IncidentState.resolved, .merged] {
            #expect(throws: PatenError.self) {
                try IncidentCommands.postUpdate(
                    IncidentSnapshot(incident: incident(state), questions: linked()), body: "x", by: staff,
                    context: context
                )
            }
        }
    }

    @Test("Resolving with the questions resolves the open ones, crediting the final message")
    func resolve() throws {
        let snapshot = IncidentSnapshot(incident: incident(), questions: linked())
        let change = try IncidentCommands.resolve(
            snapshot, body: "Fixed.", resolveQuestions: true, by: staff, rating: { _ in nil }, context: context
        )
        #expect(change.incident.state == .resolved)
        #expect(change.update?.kind == .resolution)
        #expect(change.questions.map(\.question.state) == [.resolved, .resolved])
        #expect(change.questions[0].record.tallies.creditedHelperId == "h_staff")
        #expect(change.questions[0].record.tallies.answerId == change.questions[0].messages.first?.id)
        #expect(change.questions[0].before?.question.state == .open)
        let kept = try IncidentCommands.resolve(
            snapshot, body: "Fixed.", resolveQuestions: false, by: staff, rating: { _ in nil }, context: context
        )
        #expect(kept.questions.map(\.question.state) == [.open, .open])
    }

    @Test("Links, unlinks and merges refuse what makes no sense")
    func refusals() throws {
        let target = QuestionSnapshot(record: QuestionRecord(question: question("q_9", "Tariff")))
        let elsewhere = IncidentLink(questionId: "q_9", incidentId: "inc_2", kind: .joined, linkedBy: nil, linkedAt: now)
        #expect(throws: PatenError.self) {
            try IncidentCommands.link(
                IncidentSnapshot(incident: incident(), target: target, targetLink: elsewhere), by: staff, context: context
            )
        }
        let linkedHere = try IncidentCommands.link(
            IncidentSnapshot(incident: incident(), target: target), by: staff, context: context
        )
        #expect(linkedHere.questions.first?.trail == ["link(q_9 manual)", "incident.linked"])
        #expect(throws: PatenError.self) {
            try IncidentCommands.unlink(IncidentSnapshot(incident: incident(), target: target), by: staff, context: context)
        }
        #expect(throws: PatenError.self) {
            try IncidentCommands.merge(
                IncidentSnapshot(incident: incident(), other: incident()), by: staff, context: context
            )
        }
        var other = incident()
        other.id = "inc_2"
        other.anchorQuestionId = "q_5"
        let merged = try IncidentCommands.merge(
            IncidentSnapshot(incident: incident(), anchor: question("q_0", "No data"), other: other), by: staff,
            context: context
        )
        #expect(merged.moveLinks && merged.other?.state == .merged && merged.other?.mergedInto == "inc_1")
        #expect(merged.questions.first?.events.map(\.type) == [.incidentUpdated])
    }
}
