-- Messages keep their write order: SQLite has it in the rowid, PostgreSQL needs a column. Messages written in one
-- millisecond (a reply and a follow-up) then list in the order they were stored.
ALTER TABLE messages ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
