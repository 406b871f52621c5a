-- Customers' data (docs/privacy.md): erasure on request, and the retention purge of questions resolved long ago.
-- A redacted question keeps its counts, times, ratings' scores and credit; its subject, customer and every text
-- about it are tombstones. redacted_at says when that happened, so the retention purge finds only what is due.
ALTER TABLE questions ADD COLUMN redacted_at BIGINT;

-- Erasure and export page through a customer's questions by channel and id, in id order.
CREATE INDEX questions_by_customer ON questions (channel, customer_id, id);

-- A redaction rewrites the question's outbox messages and stored idempotent answers, found by question.
CREATE INDEX outbox_by_question ON outbox_messages (question_id) WHERE question_id IS NOT NULL;
CREATE INDEX idempotency_keys_by_question ON idempotency_keys (question_id) WHERE question_id IS NOT NULL;

-- The retention purge walks the questions resolved longest ago that still hold text.
CREATE INDEX questions_due_redaction ON questions (resolved_at) WHERE state = 'resolved' AND redacted_at IS NULL;

-- The audit fact of each erasure request: who asked, when, on which channel, and how many questions it redacted;
-- never the customer or what was erased.
CREATE TABLE erasures (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    erased_by TEXT NOT NULL REFERENCES helpers (id),
    erased_at BIGINT NOT NULL,
    questions INTEGER NOT NULL
);

CREATE INDEX erasures_by_time ON erasures (erased_at);
