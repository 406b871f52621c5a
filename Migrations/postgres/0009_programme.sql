-- The volunteer programme: credit fixed when a question is resolved, the append-only points ledger, levels, badges,
-- topic grants, each volunteer's protection settings, and payout batches. (PostgreSQL twin of
-- Migrations/sqlite/0009_programme.sql.)

ALTER TABLE questions ADD COLUMN credited_helper_id TEXT REFERENCES helpers (id);
ALTER TABLE questions ADD COLUMN answer_id TEXT;
CREATE INDEX questions_by_credited ON questions (credited_helper_id, topic) WHERE credited_helper_id IS NOT NULL;

ALTER TABLE ratings ADD COLUMN solved BOOLEAN;
CREATE INDEX ratings_by_helper ON ratings (helper_id, rated_at) WHERE rated_at IS NOT NULL;

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
ALTER TABLE helpers ADD COLUMN weekly_hours DOUBLE PRECISION CHECK (weekly_hours >= 0);

CREATE TABLE payouts (
    id TEXT PRIMARY KEY,
    period_end BIGINT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL REFERENCES helpers (id),
    value_per_point DOUBLE PRECISION NOT NULL,
    currency TEXT NOT NULL,
    min_points INTEGER NOT NULL
);

CREATE TABLE points_ledger (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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

-- Append-only: an UPDATE or DELETE of a ledger row does nothing (SQLite's twin refuses it with an error; rules keep
-- this migration free of function bodies).
CREATE RULE points_ledger_no_update AS ON UPDATE TO points_ledger DO INSTEAD NOTHING;
CREATE RULE points_ledger_no_delete AS ON DELETE TO points_ledger DO INSTEAD NOTHING;

CREATE TABLE helper_badges (
    helper_id TEXT NOT NULL REFERENCES helpers (id),
    badge_key TEXT NOT NULL,
    awarded_at BIGINT NOT NULL,
    PRIMARY KEY (helper_id, badge_key)
);

CREATE TABLE helper_topics (
    helper_id TEXT NOT NULL REFERENCES helpers (id),
    topic TEXT NOT NULL,
    granted BOOLEAN NOT NULL,
    set_by TEXT NOT NULL REFERENCES helpers (id),
    set_at BIGINT NOT NULL,
    PRIMARY KEY (helper_id, topic)
);

ALTER TABLE escalations DROP CONSTRAINT escalations_reason_check;
ALTER TABLE escalations ADD CONSTRAINT escalations_reason_check CHECK (
    reason IN (
        'critical_intake', 'peer_window_expired', 'claim_expired', 'sla_warning', 'sla_breached', 'low_rating',
        'handoff', 'manual', 'volunteer_paused', 'probation_review'
    )
);
