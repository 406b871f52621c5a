-- Integrations: the webhook side of accounts of role `integration`, their signing secrets, inbound receipts and
-- conversations, and the outbound outbox with its delivery log.

CREATE TABLE integrations (
    id TEXT PRIMARY KEY REFERENCES helpers (id),
    kind TEXT NOT NULL CHECK (kind IN ('standard', 'slack')),
    state TEXT NOT NULL CHECK (state IN ('active', 'disabled')),
    inbound_enabled BOOLEAN NOT NULL,
    outbound_url TEXT,
    -- Subscribed event types as ',a,b,' so one LIKE finds a subscriber.
    events TEXT NOT NULL,
    -- 1: events about every question; 0: only about questions that came in through this integration.
    all_channels BOOLEAN NOT NULL,
    outbound_disabled_at BIGINT,
    outbound_disabled_reason TEXT,
    -- Start of the current run of failed delivery attempts; NULL after a success.
    failing_since BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Secrets sealed with AES-GCM. The current secret has no expiry; rotation gives the previous one an expiry at the
-- end of the overlap window.
CREATE TABLE integration_secrets (
    id TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL REFERENCES integrations (id),
    sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX integration_secrets_by_integration ON integration_secrets (integration_id, created_at);

-- What happened to an integration that an admin should know: created, rotated, disabled (by hand, 410, failing).
CREATE TABLE integration_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    integration_id TEXT NOT NULL REFERENCES integrations (id),
    type TEXT NOT NULL,
    at BIGINT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX integration_events_by_integration ON integration_events (integration_id, seq);

-- Inbound webhook ids already acted on, kept at least seven days, so a retried delivery changes nothing.
CREATE TABLE webhook_receipts (
    integration_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    question_id TEXT,
    PRIMARY KEY (integration_id, webhook_id)
);
CREATE INDEX webhook_receipts_by_time ON webhook_receipts (received_at);

-- A chat conversation (Slack: channel and thread) and the question it became.
CREATE TABLE conversations (
    integration_id TEXT NOT NULL REFERENCES integrations (id),
    conversation_id TEXT NOT NULL,
    question_id TEXT NOT NULL REFERENCES questions (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (integration_id, conversation_id)
);
CREATE INDEX conversations_by_question ON conversations (question_id);

-- The outbox: one row per event and subscribed integration, written in the transaction of the change. The id is
-- the `webhook-id`, the same on every attempt and redelivery. `next_attempt_at` is NULL while the endpoint is
-- disabled (the message waits) and once the message is delivered or dead. A deliverer that claims a message sets
-- `claim_token` and puts `next_attempt_at` off by its lease; only the holder of the token may record the result.
CREATE TABLE outbox_messages (
    id TEXT PRIMARY KEY,
    -- Write order (SQLite uses its rowid), so one endpoint's messages go out in the order they were written.
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    integration_id TEXT NOT NULL REFERENCES integrations (id),
    event_type TEXT NOT NULL,
    question_id TEXT,
    payload BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    delivered_at BIGINT,
    dead_at BIGINT,
    last_error TEXT,
    claim_token TEXT
);
CREATE INDEX outbox_due ON outbox_messages (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_by_integration ON outbox_messages (integration_id, created_at, id);
-- Counts by state for /metrics, and the retention purge of messages delivered or dead long ago.
CREATE INDEX outbox_by_state ON outbox_messages (state, COALESCE(delivered_at, dead_at));

CREATE TABLE delivery_attempts (
    message_id TEXT NOT NULL REFERENCES outbox_messages (id),
    attempt INTEGER NOT NULL,
    attempted_at BIGINT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed', 'refused')),
    status_code INTEGER,
    latency_ms INTEGER NOT NULL,
    error TEXT,
    PRIMARY KEY (message_id, attempt)
);
