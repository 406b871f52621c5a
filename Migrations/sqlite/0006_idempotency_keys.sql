-- Idempotency keys: per account and route, the fingerprint of the request body that first used the key, the
-- reservation of the request running under it, and once it succeeded its response, replayed to retries for 24 h.
-- Records older than that are deleted a batch at a time by the requests that reserve new keys.
CREATE TABLE idempotency_keys (
    account_id TEXT NOT NULL REFERENCES helpers (id),
    route TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    PRIMARY KEY (account_id, route, idempotency_key)
);

-- The purge walks the oldest records first.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
