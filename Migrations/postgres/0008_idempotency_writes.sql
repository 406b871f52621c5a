-- What a request under an idempotency key wrote, marked in the same transaction as the write: the question it
-- created or added to, and (for a follow-up) its message. A record with a write never lapses before the key's
-- lifetime and is never released: a retry is answered from the write (rebuilt when the response was not stored),
-- so no committed write is made twice under one key. (PostgreSQL twin of
-- Migrations/sqlite/0008_idempotency_writes.sql.)
ALTER TABLE idempotency_keys ADD COLUMN question_id TEXT;
ALTER TABLE idempotency_keys ADD COLUMN message_id TEXT;
