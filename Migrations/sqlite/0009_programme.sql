-- The volunteer programme: credit fixed when a question is resolved, the append-only points ledger, levels, badges,
-- topic grants, each volunteer's protection settings, and payout batches.

-- Who a resolution credits (the answer's author) and with which reply; cleared when the question reopens.
ALTER TABLE questions ADD COLUMN credited_helper_id TEXT REFERENCES helpers (id);
ALTER TABLE questions ADD COLUMN answer_id TEXT;
CREATE INDEX questions_by_credited ON questions (credited_helper_id, topic) WHERE credited_helper_id IS NOT NULL;

-- The customer's "did this solve your problem?" (1 yes, 0 no, NULL not said).
ALTER TABLE ratings ADD COLUMN solved INTEGER CHECK (solved IN (0, 1));
CREATE INDEX ratings_by_helper ON ratings (helper_id, rated_at) WHERE rated_at IS NOT NULL;

-- A volunteer's claims in a week, for the weekly budget.
CREATE INDEX claims_by_helper_time ON claims (helper_id, claimed_at);

ALTER TABLE helpers ADD COLUMN level TEXT;
ALTER TABLE helpers ADD COLUMN paused_at BIGINT;
ALTER TABLE helpers ADD COLUMN resumed_at BIGINT;
ALTER TABLE helpers ADD COLUMN resumed_by TEXT REFERENCES helpers (id);
ALTER TABLE helpers ADD COLUMN resume_note TEXT;
ALTER TABLE helpers ADD COLUMN time_zone TEXT;
ALTER TABLE helpers ADD COLUMN quiet_start INTEGER CHECK (quiet_start BETWEEN 0 AND 1439);
ALTER TABLE helpers ADD COLUMN quiet_end INTEGER CHECK (quiet_end BETWEEN 0 AND 1439);
ALTER TABLE helpers ADD COLUMN weekly_claims INTEGER CHECK (weekly_claims >= 0);
ALTER TABLE helpers ADD COLUMN weekly_hours REAL CHECK (weekly_hours >= 0);

-- One batch per period end: a second booking of the same period finds this row.
CREATE TABLE payouts (
    id TEXT PRIMARY KEY,
    period_end BIGINT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL REFERENCES helpers (id),
    value_per_point REAL NOT NULL,
    currency TEXT NOT NULL,
    min_points INTEGER NOT NULL
);

-- Append-only: a correction is a new row (a reversal, a payout), never an edit.
CREATE TABLE points_ledger (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    helper_id TEXT NOT NULL REFERENCES helpers (id),
    amount INTEGER NOT NULL,
    reason TEXT NOT NULL CHECK (
        reason IN (
            'accepted_answer', 'good_rating', 'confirmed_solved', 'fast_first_reply', 'badge',
            'accepted_answer_reversed', 'confirmed_solved_reversed', 'payout'
        )
    ),
    question_id TEXT REFERENCES questions (id),
    topic TEXT,
    payout_id TEXT REFERENCES payouts (id),
    at BIGINT NOT NULL
);

CREATE INDEX points_by_helper ON points_ledger (helper_id, at);
CREATE INDEX points_by_question ON points_ledger (question_id, helper_id) WHERE question_id IS NOT NULL;
CREATE INDEX points_by_time ON points_ledger (at);
CREATE INDEX points_by_payout ON points_ledger (payout_id) WHERE payout_id IS NOT NULL;

CREATE TRIGGER points_ledger_no_update BEFORE UPDATE ON points_ledger
BEGIN
    SELECT RAISE(ABORT, 'the points ledger is append-only');
END;

CREATE TRIGGER points_ledger_no_delete BEFORE DELETE ON points_ledger
BEGIN
    SELECT RAISE(ABORT, 'the points ledger is append-only');
END;

-- Badges once per helper and key (a topic badge's key names its topic).
CREATE TABLE helper_badges (
    helper_id TEXT NOT NULL REFERENCES helpers (id),
    badge_key TEXT NOT NULL,
    awarded_at BIGINT NOT NULL,
    PRIMARY KEY (helper_id, badge_key)
);

-- Staff's grant (1) or revocation (0) of a topic for a helper, overriding the policy's unlock.
CREATE TABLE helper_topics (
    helper_id TEXT NOT NULL REFERENCES helpers (id),
    topic TEXT NOT NULL,
    granted INTEGER NOT NULL CHECK (granted IN (0, 1)),
    set_by TEXT NOT NULL REFERENCES helpers (id),
    set_at BIGINT NOT NULL,
    PRIMARY KEY (helper_id, topic)
);

-- Two new escalation reasons. SQLite cannot change a CHECK constraint in place: the table is rebuilt with its rows.
CREATE TABLE escalations_rebuilt (
    id TEXT PRIMARY KEY,
    question_id TEXT NOT NULL REFERENCES questions (id),
    reason TEXT NOT NULL CHECK (
        reason IN (
            'critical_intake', 'peer_window_expired', 'claim_expired', 'sla_warning', 'sla_breached', 'low_rating',
            'handoff', 'manual', 'volunteer_paused', 'probation_review'
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
