-- Messages keep their write order. SQLite already has it in the rowid, so this migration changes nothing here; it
-- exists so that both databases carry the same migration ids (PostgreSQL adds messages.seq).
SELECT 1;
