-- Escalations, SLA clocks, ratings, and the per-question counters metrics read.

-- One row per question and clock. next_check_at is when the sweeper must next look (the warning time, then the
-- due time); it is NULL once nothing more can happen, so the sweeper's index holds only live clocks.
CREATE TABLE sla_timers (
    question_id TEXT NOT NULL REFERENCES questions (id),
    target TEXT NOT NULL CHECK (target IN ('peer_window', 'first_response', 'next_response', 'resolution')),
    started_at BIGINT NOT NULL,
    warn_at BIGINT,
    due_at BIGINT NOT NULL,
    next_check_at BIGINT,
    status TEXT NOT NULL CHECK (status IN ('running', 'warned', 'breached', 'met', 'stopped')),
    ended_at BIGINT,
    PRIMARY KEY (question_id, target)
);

CREATE INDEX sla_timers_due ON sla_timers (next_check_at) WHERE next_check_at IS NOT NULL;

CREATE TABLE escalations (
    id TEXT PRIMARY KEY,
    question_id TEXT NOT NULL REFERENCES questions (id),
    reason TEXT NOT NULL CHECK (
        reason IN (
            'critical_intake', 'peer_window_expired', 'claim_expired', 'sla_warning', 'sla_breached', 'low_rating',
            'handoff', 'manual'
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

-- Once per question, reason and level, whatever ticks, restarts or instances race.
CREATE UNIQUE INDEX escalations_once ON escalations (question_id, reason, level);
CREATE INDEX escalations_by_state ON escalations (state, level, created_at);

-- Every creation, acknowledgement and resolution in order: the live stream's feed and its resume point.
CREATE TABLE escalation_changes (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    escalation_id TEXT NOT NULL REFERENCES escalations (id),
    kind TEXT NOT NULL CHECK (kind IN ('escalation.created', 'escalation.acknowledged', 'escalation.resolved')),
    at BIGINT NOT NULL
);

-- One rating per question; the token is stored as its SHA-256.
CREATE TABLE ratings (
    question_id TEXT PRIMARY KEY REFERENCES questions (id),
    token_hash TEXT NOT NULL UNIQUE,
    token_expires_at BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    helper_id TEXT REFERENCES helpers (id),
    helper_tier TEXT CHECK (helper_tier IN ('volunteer', 'staff')),
    score INTEGER CHECK (score BETWEEN 1 AND 5),
    comment TEXT,
    rated_at BIGINT
);

CREATE INDEX ratings_by_time ON ratings (rated_at) WHERE rated_at IS NOT NULL;

ALTER TABLE questions ADD COLUMN moved_to_staff_at BIGINT;
ALTER TABLE questions ADD COLUMN awaiting_reply_since BIGINT;
ALTER TABLE questions ADD COLUMN next_response_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE questions ADD COLUMN next_response_total_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE questions ADD COLUMN next_response_max_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE questions ADD COLUMN staff_replies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE questions ADD COLUMN volunteer_replies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE questions ADD COLUMN claim_expiries INTEGER NOT NULL DEFAULT 0;
-- The next-response clock restarts with each follow-up; its breaches are counted so none is forgotten.
ALTER TABLE questions ADD COLUMN next_response_breaches INTEGER NOT NULL DEFAULT 0;
