-- Similar questions, surges and incidents (docs/incidents.md).

-- A question's similarity signature: its terms (folded words, sorted, separated by spaces) and its 32 MinHash band
-- keys (8 bytes each, big-endian), in the group it joined at intake. Kept until keep_until (the surge baseline's
-- weeks; longer for a solved question, offered as a similar answer), then purged with its bands.
CREATE TABLE question_signatures (
    question_id TEXT PRIMARY KEY REFERENCES questions (id),
    group_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    keep_until BIGINT NOT NULL,
    terms TEXT NOT NULL,
    bands BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX question_signatures_by_group ON question_signatures (group_id, created_at);
CREATE INDEX question_signatures_by_expiry ON question_signatures (keep_until);

-- One row per band of a signature: questions that share a band key are candidates for similarity.
CREATE TABLE signature_bands (
    band BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    question_id TEXT NOT NULL,
    PRIMARY KEY (band, created_at, question_id)
) WITHOUT ROWID;

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('open', 'resolved', 'merged')),
    title TEXT NOT NULL,
    top_terms TEXT NOT NULL,
    observed INTEGER NOT NULL,
    expected REAL NOT NULL,
    probability REAL NOT NULL,
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

-- A new escalation reason. SQLite cannot change a CHECK constraint in place: the table is rebuilt with its rows.
CREATE TABLE escalations_rebuilt (
    id TEXT PRIMARY KEY,
    question_id TEXT NOT NULL REFERENCES questions (id),
    reason TEXT NOT NULL CHECK (
        reason IN (
            'critical_intake', 'peer_window_expired', 'claim_expired', 'sla_warning', 'sla_breached', 'low_rating',
            'handoff', 'manual', 'volunteer_paused', 'probation_review', 'surge'
        )
    ),
    level INTEGER NOT NULL CHECK (level IN (1, 2)),
    state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    note TEXT,
    created_by TEXT REFERENCES helpers (id),
    created_at BIGINT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT REFERENCES helpers (id),
    resolved_at BIGINT,
    resolved_by TEXT REFERENCES helpers (id),
    updated_at BIGINT NOT NULL
);

INSERT INTO escalations_rebuilt (
    id, question_id, reason, level, state, note, created_by, created_at, acknowledged_at, acknowledged_by,
    resolved_at, resolved_by, updated_at
)
SELECT
    id, question_id, reason, level, state, note, created_by, created_at, acknowledged_at, acknowledged_by,
    resolved_at, resolved_by, updated_at
FROM escalations;

DROP TABLE escalations;
ALTER TABLE escalations_rebuilt RENAME TO escalations;
CREATE UNIQUE INDEX escalations_once ON escalations (question_id, reason, level);
CREATE INDEX escalations_by_state ON escalations (state, level, created_at);
