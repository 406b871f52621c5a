-- The staff console: sign-in sessions, and the counts of the live queue.
-- A session is a staff or admin token exchanged for a cookie. The value of the cookie is never stored, only its
-- SHA-256, as with tokens. The session ends at expires_at, at sign-out, and as soon as its token is revoked (checked
-- on every request). csrf_token is the value every console form carries back.
CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    helper_id TEXT NOT NULL REFERENCES helpers (id),
    token_id TEXT NOT NULL REFERENCES access_tokens (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

-- The overview lists the newest open escalations and counts the unresolved ones by reason: both from indexes,
-- without sorting or reading every open escalation (the older index has the level between state and time).
CREATE INDEX escalations_by_state_time ON escalations (state, created_at, id);
CREATE INDEX escalations_by_state_reason ON escalations (state, reason);

-- Open and claimed questions by tier, topic and state, kept by triggers on questions, so the overview reads a few
-- rows however many questions there are. The live count of a cell is its queue_counts row plus its rows in
-- queue_count_changes.
CREATE TABLE queue_counts (
    tier TEXT NOT NULL,
    topic TEXT NOT NULL,
    state TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (tier, topic, state)
);

-- SQLite has one writer, so its triggers add to queue_counts directly and this table stays empty. It is here
-- for the same schema as PostgreSQL.
CREATE TABLE queue_count_changes (
    id INTEGER PRIMARY KEY,
    tier TEXT NOT NULL,
    topic TEXT NOT NULL,
    state TEXT NOT NULL,
    delta INTEGER NOT NULL
);

INSERT INTO queue_counts (tier, topic, state, n)
SELECT tier, topic, state, COUNT(*) FROM questions WHERE state IN ('open', 'claimed') GROUP BY tier, topic, state;

CREATE TRIGGER questions_queue_count_insert AFTER INSERT ON questions WHEN NEW.state IN ('open', 'claimed')
BEGIN
    INSERT INTO queue_counts (tier, topic, state, n) VALUES (NEW.tier, NEW.topic, NEW.state, 1)
    ON CONFLICT (tier, topic, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER questions_queue_count_delete AFTER DELETE ON questions WHEN OLD.state IN ('open', 'claimed')
BEGIN
    UPDATE queue_counts SET n = n - 1 WHERE tier = OLD.tier AND topic = OLD.topic AND state = OLD.state;
END;

CREATE TRIGGER questions_queue_count_update AFTER UPDATE OF tier, topic, state ON questions
WHEN (OLD.tier, OLD.topic, OLD.state) IS NOT (NEW.tier, NEW.topic, NEW.state)
    AND (OLD.state IN ('open', 'claimed') OR NEW.state IN ('open', 'claimed'))
BEGIN
    UPDATE queue_counts SET n = n - 1
    WHERE tier = OLD.tier AND topic = OLD.topic AND state = OLD.state AND OLD.state IN ('open', 'claimed');
    INSERT INTO queue_counts (tier, topic, state, n) SELECT NEW.tier, NEW.topic, NEW.state, 1
    WHERE NEW.state IN ('open', 'claimed')
    ON CONFLICT (tier, topic, state) DO UPDATE SET n = n + 1;
END;
