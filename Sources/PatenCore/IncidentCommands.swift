import Foundation

extension QuestionCommands {
    /// Intake with surge detection: the new question's signature joins its group (its most similar recent
    /// question's, or its own); a question similar to one of an open incident's joins that incident and is sent its
    /// latest update; a group that is a surge in the window (see `SurgeRules.verdict`) opens an incident over the
    /// group's questions of the horizon, with a `surge` escalation.
    public static func intake(
        _ draft: QuestionDraft, messageId: String, idempotency: IdempotencyReservation?, surge needs: SurgeNeeds?,
        snapshot: SurgeSnapshot, context: ChangeContext
    ) -> QuestionChange {
        var change = intake(draft, messageId: messageId, idempotency: idempotency, context: context)
        guard let needs, needs.looks else { return change }
        var context = context
        context.now = change.question.createdAt
        change.detectSurge(needs, snapshot, context: context)
        return change
    }
}

/// The staff commands on incidents: updates, links, merges and resolution, each over a snapshot loaded under the
/// incident's lock.
public enum IncidentCommands {
    /// Longest update or final message, in Unicode code points.
    public static let maxBodyLength = 10_000

    /// Posts an update: stored on the incident and sent as a reply to every linked question that is not resolved
    /// (one `question.replied` each); the anchor question records `incident.updated`.
    public static func postUpdate(
        _ snapshot: IncidentSnapshot, body: String, by actor: Helper, context: ChangeContext
    ) throws -> IncidentChange {
        var (change, update) = try posting(.update, body, snapshot, by: actor, context: context)
        change.questions = try replies(snapshot, update, by: actor, context: context)
        change.recordOnAnchor(
            snapshot, .incidentUpdated, actor: actor.id, ["incident_id": update.incidentId, "update_id": update.id],
            outbound: ["body": body], at: context.now
        )
        return change
    }

    /// Resolves the incident with a final message, sent like an update; with `resolveQuestions`, every linked
    /// question that is open is resolved after it (crediting the final message, with a rating link from `rating`).
    public static func resolve(
        _ snapshot: IncidentSnapshot, body: String, resolveQuestions: Bool, by actor: Helper,
        rating: @Sendable (String) -> RatingGrant?, context: ChangeContext
    ) throws -> IncidentChange {
        var (change, update) = try posting(.resolution, body, snapshot, by: actor, context: context)
        change.incident.state = .resolved
        change.incident.resolvedAt = context.now
        change.incident.resolvedBy = actor.id
        var questions = try replies(snapshot, update, by: actor, context: context)
        if resolveQuestions {
            questions = try questions.map { replied in
                guard let message = replied.messages.first, let before = replied.before else { return replied }
                // The question as the reply left it, answered by the final message.
                let answered = QuestionSnapshot(
                    record: replied.record,
                    lastReplier: Replier(id: actor.id, role: actor.role, messageId: message.id),
                    rated: snapshot.questions.first { $0.question.id == replied.question.id }?.rated ?? false
                )
                var resolved = try QuestionCommands.resolve(
                    answered, by: actor, note: "Resolved with incident \(update.incidentId).", rating: rating(replied.question.id),
                    context: context
                )
                resolved.before = before
                resolved.effects = replied.effects + resolved.effects
                return resolved
            }
        }
        change.questions = questions
        change.recordOnAnchor(
            snapshot, .incidentResolved, actor: actor.id,
            [
                "incident_id": update.incidentId, "update_id": update.id,
                "resolve_questions": resolveQuestions ? "true" : "false",
            ],
            outbound: ["body": body], at: context.now
        )
        return change
    }

    /// Links a question by hand; it is sent the incident's latest update, as a question that joins at intake is.
    public static func link(
        _ snapshot: IncidentSnapshot, by actor: Helper, context: ChangeContext
    ) throws
        -> IncidentChange
    {
        try checkOpen(snapshot.incident)
        guard let target = snapshot.target else { throw PatenError.notFound("question", id: "") }
        if let existing = snapshot.targetLink {
            guard existing.incidentId != snapshot.incident.id else {
                return IncidentChange(incident: snapshot.incident)
            }
            throw PatenError.conflict(
                "already_linked",
                "Question \(target.question.id) belongs to incident \(existing.incidentId); unlink it there first, or merge the incidents.",
                details: ["incident_id": existing.incidentId]
            )
        }
        var question = QuestionChange(from: target)
        question.link(to: snapshot.incident.id, kind: .manual, by: actor.id, context: context)
        if let update = snapshot.latestUpdate, target.question.state != .resolved, !Redaction.isRedacted(target.question) {
            question = try QuestionCommands.reply(
                target, by: actor, messageId: context.ids.make("m"), body: update.body,
                lease: context.planner.policy.claimLease, context: context
            ).markedAsUpdate(update, prepending: question.effects)
        }
        var change = IncidentChange(incident: snapshot.incident)
        change.incident.updatedAt = context.now
        change.questions = [question]
        return change
    }

    /// Unlinks a question; nothing is sent.
    public static func unlink(
        _ snapshot: IncidentSnapshot, by actor: Helper, context: ChangeContext
    ) throws
        -> IncidentChange
    {
        guard let target = snapshot.target else { throw PatenError.notFound("question", id: "") }
        // A merged incident's questions moved on; a resolved one's may still be tidied up.
        if snapshot.incident.state == .merged { try checkOpen(snapshot.incident) }
        guard snapshot.targetLink?.incidentId == snapshot.incident.id else {
            throw PatenError.notFound("incident question", id: target.question.id)
        }
        var question = QuestionChange(from: target)
        question.effects.append(.unlinkIncident(questionId: target.question.id))
        question.addEvent(.incidentUnlinked, actor: actor.id, at: context.now, ["incident_id": snapshot.incident.id])
        var change = IncidentChange(incident: snapshot.incident)
        change.incident.updatedAt = context.now
        change.questions = [question]
        return change
    }

    /// Merges the other incident into this one: its questions move here (and get this incident's later updates), it
    /// ends as `merged`.
    public static func merge(
        _ snapshot: IncidentSnapshot, by actor: Helper, context: ChangeContext
    ) throws
        -> IncidentChange
    {
        try checkOpen(snapshot.incident)
        guard let other = snapshot.other else { throw PatenError.notFound("incident", id: "") }
        guard other.id != snapshot.incident.id else {
            throw PatenError(
                .unprocessable, code: "same_incident", message: "An incident cannot be merged into itself; name another."
            )
        }
        try checkOpen(other)
        var change = IncidentChange(incident: snapshot.incident)
        change.incident.updatedAt = context.now
        var merged = other
        merged.state = .merged
        merged.mergedInto = snapshot.incident.id
        merged.updatedAt = context.now
        change.other = merged
        change.moveLinks = true
        change.recordOnAnchor(
            snapshot, .incidentUpdated, actor: actor.id,
            ["incident_id": snapshot.incident.id, "merged_incident_id": other.id], outbound: [:], at: context.now
        )
        return change
    }

    /// The change that stores a new update (or final message) on an open incident.
    static func posting(
        _ kind: IncidentUpdate.Kind, _ body: String, _ snapshot: IncidentSnapshot, by actor: Helper,
        context: ChangeContext
    ) throws -> (IncidentChange, IncidentUpdate) {
        try checkOpen(snapshot.incident)
        var change = IncidentChange(incident: snapshot.incident)
        change.incident.updatedAt = context.now
        let update = IncidentUpdate(
            id: context.ids.make("upd"), incidentId: snapshot.incident.id, kind: kind, body: body, createdBy: actor.id,
            createdAt: context.now
        )
        change.update = update
        return (change, update)
    }

    static func checkOpen(_ incident: Incident) throws {
        switch incident.state {
        case .open: return
        case .resolved:
            throw PatenError.conflict(
                "incident_resolved", "Incident \(incident.id) is resolved; open questions are no longer linked to it.")
        case .merged:
            throw PatenError.conflict(
                "incident_merged",
                "Incident \(incident.id) was merged into \(incident.mergedInto ?? "another incident"); act on that one.",
                details: ["merged_into": incident.mergedInto ?? ""]
            )
        }
    }

    /// The update as a reply on every linked question that is not resolved.
    static func replies(
        _ snapshot: IncidentSnapshot, _ update: IncidentUpdate, by actor: Helper, context: ChangeContext
    ) throws -> [QuestionChange] {
        // Redacted questions take no new words (their customers were erased); staff resolve them by hand.
        try snapshot.questions.filter { $0.question.state != .resolved && !Redaction.isRedacted($0.question) }.map {
            question in
            try QuestionCommands.reply(
                question, by: actor, messageId: context.ids.make("m"), body: update.body,
                lease: context.planner.policy.claimLease, context: context
            ).markedAsUpdate(update, prepending: [])
        }
    }
}

extension IncidentChange {
    /// Records an incident event in the anchor question's timeline: in that question's change when the command
    /// changes it, else in a change of its own.
    mutating func recordOnAnchor(
        _ snapshot: IncidentSnapshot, _ type: QuestionEventType, actor: String, _ data: [String: String],
        outbound: [String: String], at now: Date
    ) {
        if let index = questions.firstIndex(where: { $0.question.id == incident.anchorQuestionId }) {
            questions[index].addEvent(type, actor: actor, at: now, data, outbound: outbound)
        } else if let anchor = snapshot.questions.first(where: { $0.question.id == incident.anchorQuestionId }) {
            var change = QuestionChange(from: anchor)
            change.addEvent(type, actor: actor, at: now, data, outbound: outbound)
            questions.append(change)
        } else if let anchor = snapshot.anchor {
            var change = QuestionChange(from: QuestionSnapshot(record: QuestionRecord(question: anchor)))
            change.addEvent(type, actor: actor, at: now, data, outbound: outbound)
            questions.append(change)
        }
    }
}

extension QuestionChange {
    /// The reply marked as an incident update's (its `question.replied` event names both), after `effects`.
    func markedAsUpdate(_ update: IncidentUpdate, prepending effects: [QuestionEffect]) -> QuestionChange {
        var change = self
        change.effects =
            effects
            + self.effects.map { effect in
                guard case .event(var fact) = effect, fact.type == .replied else { return effect }
                fact.data["incident_id"] = update.incidentId
                fact.data["incident_update_id"] = update.id
                return .event(fact)
            }
        return change
    }

    /// Links the question to an incident, with its `incident.linked` event.
    mutating func link(to incidentId: String, kind: IncidentLinkKind, by actor: String?, context: ChangeContext) {
        effects.append(
            .linkIncident(
                IncidentLink(
                    questionId: question.id, incidentId: incidentId, kind: kind, linkedBy: actor, linkedAt: context.now
                )
            )
        )
        addEvent(.incidentLinked, actor: actor, at: context.now, ["incident_id": incidentId, "how": kind.rawValue])
    }

    /// The surge step of intake (see `QuestionCommands.intake(_:messageId:idempotency:surge:snapshot:context:)`).
    mutating func detectSurge(_ needs: SurgeNeeds, _ snapshot: SurgeSnapshot, context: ChangeContext) {
        let now = context.now
        let groupId = SurgeRules.groupId(needs, snapshot, questionId: question.id)
        effects.append(
            .signature(groupId: groupId, needs.signature, keepUntil: now.addingTimeInterval(needs.policy.retention))
        )
        if let join = snapshot.join, join.incident.state == .open {
            link(to: join.incident.id, kind: .joined, by: nil, context: context)
            if let update = join.latestUpdate, let author = join.author,
                let reply = try? QuestionCommands.reply(
                    QuestionSnapshot(record: record), by: author, messageId: context.ids.make("m"), body: update.body,
                    lease: context.planner.policy.claimLease, context: context
                )
            {
                // The latest update goes to the customer at once, as it went to those asked before.
                let replied = reply.markedAsUpdate(update, prepending: effects)
                record = replied.record
                effects = replied.effects
            }
            return
        }
        guard !snapshot.baseline.isEmpty, SurgeRules.largeEnough(needs, groupCount: snapshot.groupCount) else { return }
        let verdict = SurgeRules.verdict(needs, members: snapshot.members, baseline: snapshot.baseline)
        guard verdict.isSurge else { return }
        let linkable = snapshot.members.filter { $0.incidentId == nil }
        let everyone = linkable.map { (question: $0.question, terms: $0.terms) } + [(question: question, terms: needs.signature.terms)]
        let topTerms = SurgeRules.spelledOut(
            SurgeRules.topTerms(everyone.map(\.terms)), in: everyone.map(\.question.subject)
        )
        // The title is shown to volunteers on every linked question: a volunteer-tier question's subject (they see
        // those in their queue anyway), never a staff-tier one's (billing, fraud); else the top terms.
        let title =
            SurgeRules.medoid(everyone.filter { $0.question.tier == .volunteer }).map {
                ContactMasker().mask($0.subject)
            } ?? topTerms.joined(separator: " ")
        let incident = Incident(
            id: context.ids.make("inc"), state: .open, title: title, topTerms: topTerms, observed: verdict.observed,
            expected: verdict.expected, probability: verdict.probability, window: needs.policy.window,
            anchorQuestionId: question.id, openedAt: now, updatedAt: now
        )
        effects.append(.openIncident(incident))
        for member in linkable {
            effects.append(
                .linkIncident(
                    IncidentLink(
                        questionId: member.question.id, incidentId: incident.id, kind: .detected, linkedBy: nil,
                        linkedAt: now
                    )
                )
            )
            effects.append(
                .event(
                    TimelineFact(
                        .incidentLinked, actor: nil, at: now, ["incident_id": incident.id, "how": "detected"],
                        question: member.question
                    )
                )
            )
        }
        link(to: incident.id, kind: .detected, by: nil, context: context)
        let expected = String(format: "%.2f", verdict.expected)
        addEvent(
            .incidentOpened, actor: nil, at: now,
            [
                "incident_id": incident.id, "observed": String(verdict.observed), "expected": expected,
                "probability": String(format: "%.2e", verdict.probability), "window_seconds": String(Int(needs.policy.window)),
                "top_terms": topTerms.joined(separator: " "), "questions": String(linkable.count + 1),
            ]
        )
        raise(
            .surge,
            note:
                "Incident \(incident.id) opened: \(verdict.observed) similar questions in \(Int(needs.policy.window / 60)) min against \(expected) expected; top terms: \(topTerms.joined(separator: ", ")).",
            actor: nil, context: context
        )
    }
}
