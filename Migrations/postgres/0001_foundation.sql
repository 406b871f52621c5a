-- Helpers, tokens, questions, messages, claims and the question timeline.
-- Times are integer milliseconds since 1970 (UTC); lists are JSON arrays in text. (PostgreSQL twin of
-- Migrations/sqlite/0001_foundation.sql: the same tables, columns and rules.)

CREATE TABLE helpers (
    id TEXT PRIMARY KEY,
    handle TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('volunteer', 'staff', 'admin', 'integration')),
    skills TEXT NOT NULL DEFAULT '[]',
    languages TEXT NOT NULL DEFAULT '[]',
    capacity INTEGER NOT NULL CHECK (capacity >= 0),
    presence TEXT NOT NULL CHECK (presence IN ('available', 'away', 'offline')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE access_tokens (
    id TEXT PRIMARY KEY,
    helper_id TEXT NOT NULL REFERENCES helpers (id),
    label TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    secret_prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX access_tokens_by_helper ON access_tokens (helper_id, created_at);

CREATE TABLE questions (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    channel TEXT NOT NULL,
    topic TEXT NOT NULL,
    language TEXT NOT NULL,
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    -- 0 low .. 3 critical, so the queue can order by it.
    priority_rank INTEGER NOT NULL,
    tier TEXT NOT NULL CHECK (tier IN ('volunteer', 'staff')),
    state TEXT NOT NULL CHECK (state IN ('open', 'claimed', 'resolved')),
    holder_id TEXT REFERENCES helpers (id),
    lease_expires_at BIGINT,
    peer_deadline_at BIGINT,
    first_response_at BIGINT,
    resolved_at BIGINT,
    resolved_by TEXT REFERENCES helpers (id),
    created_by TEXT NOT NULL REFERENCES helpers (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The queue: claimable questions of a tier, oldest first.
CREATE INDEX questions_claimable ON questions (tier, state, created_at);
-- Lease expiry touches only claimed questions, by due time.
CREATE INDEX questions_lease_due ON questions (lease_expires_at) WHERE state = 'claimed';
-- Listings, newest first, and a helper's own claims.
CREATE INDEX questions_newest ON questions (created_at, id);
CREATE INDEX questions_by_holder ON questions (holder_id, created_at) WHERE holder_id IS NOT NULL;
CREATE INDEX questions_by_channel ON questions (channel, created_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    question_id TEXT NOT NULL REFERENCES questions (id),
    author_kind TEXT NOT NULL CHECK (author_kind IN ('customer', 'helper')),
    helper_id TEXT REFERENCES helpers (id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX messages_by_question ON messages (question_id, created_at);

CREATE TABLE claims (
    id TEXT PRIMARY KEY,
    question_id TEXT NOT NULL REFERENCES questions (id),
    helper_id TEXT NOT NULL REFERENCES helpers (id),
    claimed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT,
    end_reason TEXT CHECK (end_reason IN ('released', 'expired', 'resolved', 'handoff', 'moved'))
);

-- The database itself guarantees one holder: at most one unended claim per question.
CREATE UNIQUE INDEX claims_one_holder ON claims (question_id) WHERE ended_at IS NULL;
CREATE INDEX claims_live_by_helper ON claims (helper_id, expires_at) WHERE ended_at IS NULL;

CREATE TABLE question_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question_id TEXT NOT NULL REFERENCES questions (id),
    type TEXT NOT NULL,
    actor_id TEXT,
    at BIGINT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX question_events_by_question ON question_events (question_id, seq);
