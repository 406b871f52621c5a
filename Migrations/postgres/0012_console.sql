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

-- Concurrent transactions would all wait on the same few queue_counts rows, so triggers only append changes
-- here, and the sweeper folds them into queue_counts every pass (each instance takes rows no other holds).
CREATE TABLE queue_count_changes (
    id BIGSERIAL PRIMARY KEY,
    tier TEXT NOT NULL,
    topic TEXT NOT NULL,
    state TEXT NOT NULL,
    delta INTEGER NOT NULL
);

-- No question changes between the first count and the triggers (the migration is one transaction).
LOCK TABLE questions IN SHARE ROW EXCLUSIVE MODE;

INSERT INTO queue_counts (tier, topic, state, n)
SELECT tier, topic, state, COUNT(*) FROM questions WHERE state IN ('open', 'claimed') GROUP BY tier, topic, state;

CREATE FUNCTION paten_queue_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.state IN ('open', 'claimed') THEN
        INSERT INTO queue_count_changes (tier, topic, state, delta) VALUES (OLD.tier, OLD.topic, OLD.state, -1);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.state IN ('open', 'claimed') THEN
        INSERT INTO queue_count_changes (tier, topic, state, delta) VALUES (NEW.tier, NEW.topic, NEW.state, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER questions_queue_count_insert_delete AFTER INSERT OR DELETE ON questions
FOR EACH ROW EXECUTE FUNCTION paten_queue_count_change();

CREATE TRIGGER questions_queue_count_update AFTER UPDATE OF tier, topic, state ON questions
FOR EACH ROW WHEN ((OLD.tier, OLD.topic, OLD.state) IS DISTINCT FROM (NEW.tier, NEW.topic, NEW.state))
EXECUTE FUNCTION paten_queue_count_change();
