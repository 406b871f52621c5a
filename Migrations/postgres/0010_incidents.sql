-- Similar questions, surges and incidents (docs/incidents.md).

-- A question's similarity signature: its terms (folded words, sorted, separated by spaces) and its 32 MinHash band
-- keys, in the group it joined at intake. Kept until keep_until (the surge baseline's
-- weeks; longer for a solved question, offered as a similar answer), then purged with its bands.
CREATE TABLE question_signatures (
    question_id TEXT PRIMARY KEY REFERENCES questions (id),
    group_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    keep_until BIGINT NOT NULL,
    terms TEXT NOT NULL,
    bands BIGINT[] NOT NULL
);
CREATE INDEX question_signatures_by_group ON question_signatures (group_id, created_at);
CREATE INDEX question_signatures_by_expiry ON question_signatures (keep_until);

-- One row per band of a signature: questions that share a band key are candidates for similarity.
CREATE TABLE signature_bands (
    band BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    question_id TEXT NOT NULL,
    PRIMARY KEY (band, created_at, question_id)
);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('open', 'resolved', 'merged')),
    title TEXT NOT NULL,
    top_terms TEXT NOT NULL,
    observed INTEGER NOT NULL,
    expected DOUBLE PRECISION NOT NULL,
    probability DOUBLE PRECISION NOT NULL,
    window_seconds INTEGER NOT NULL,
    anchor_question_id TEXT NOT NULL REFERENCES questions (id),
    opened_at BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT REFERENCES helpers (id),
    merged_into TEXT REFERENCES incidents (id),
    updated_at BIGINT NOT NULL
);
CREATE INDEX incidents_by_state ON incidents (state, opened_at);
CREATE INDEX incidents_by_opening ON incidents (opened_at);

-- A question belongs to at most one incident.
CREATE TABLE incident_questions (
    question_id TEXT PRIMARY KEY REFERENCES questions (id),
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    kind TEXT NOT NULL CHECK (kind IN ('detected', 'joined', 'manual')),
    linked_by TEXT REFERENCES helpers (id),
    linked_at BIGINT NOT NULL
);
CREATE INDEX incident_questions_by_incident ON incident_questions (incident_id, question_id);

CREATE TABLE incident_updates (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    kind TEXT NOT NULL CHECK (kind IN ('update', 'resolution')),
    body TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES helpers (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX incident_updates_by_incident ON incident_updates (incident_id, created_at, id);

ALTER TABLE escalations DROP CONSTRAINT escalations_reason_check;
ALTER TABLE escalations ADD CONSTRAINT escalations_reason_check CHECK (
    reason IN (
        'critical_intake', 'peer_window_expired', 'claim_expired', 'sla_warning', 'sla_breached', 'low_rating',
        'handoff', 'manual', 'volunteer_paused', 'probation_review', 'surge'
    )
);
