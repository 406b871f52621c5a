-- SQLite keeps the band keys of similarity signatures in an FTS5 index instead of one B-tree row per band.
-- Band keys are random: 32 rows per question into one B-tree touched 32 scattered pages per question, and intake
-- under load wrote tens of times more WAL than without signatures (docs/performance.md, "Surge detection at
-- intake"). FTS5 buffers a transaction's postings and writes them as one new segment, merged later in the
-- background of other writes. Each document is a question's 32 keys as 16-digit hex words; its rowid is the
-- question's rowid, which grows with time, so the newest matches come first. Contentless (the keys are in
-- question_signatures.bands), without positions.
CREATE VIRTUAL TABLE signature_band_index USING fts5(bands, content = '', detail = none);

INSERT INTO signature_band_index (rowid, bands)
SELECT
    q.rowid,
    lower(hex(substr(s.bands, 1, 8))) || ' ' || lower(hex(substr(s.bands, 9, 8))) || ' ' ||
    lower(hex(substr(s.bands, 17, 8))) || ' ' || lower(hex(substr(s.bands, 25, 8))) || ' ' ||
    lower(hex(substr(s.bands, 33, 8))) || ' ' || lower(hex(substr(s.bands, 41, 8))) || ' ' ||
    lower(hex(substr(s.bands, 49, 8))) || ' ' || lower(hex(substr(s.bands, 57, 8))) || ' ' ||
    lower(hex(substr(s.bands, 65, 8))) || ' ' || lower(hex(substr(s.bands, 73, 8))) || ' ' ||
    lower(hex(substr(s.bands, 81, 8))) || ' ' || lower(hex(substr(s.bands, 89, 8))) || ' ' ||
    lower(hex(substr(s.bands, 97, 8))) || ' ' || lower(hex(substr(s.bands, 105, 8))) || ' ' ||
    lower(hex(substr(s.bands, 113, 8))) || ' ' || lower(hex(substr(s.bands, 121, 8))) || ' ' ||
    lower(hex(substr(s.bands, 129, 8))) || ' ' || lower(hex(substr(s.bands, 137, 8))) || ' ' ||
    lower(hex(substr(s.bands, 145, 8))) || ' ' || lower(hex(substr(s.bands, 153, 8))) || ' ' ||
    lower(hex(substr(s.bands, 161, 8))) || ' ' || lower(hex(substr(s.bands, 169, 8))) || ' ' ||
    lower(hex(substr(s.bands, 177, 8))) || ' ' || lower(hex(substr(s.bands, 185, 8))) || ' ' ||
    lower(hex(substr(s.bands, 193, 8))) || ' ' || lower(hex(substr(s.bands, 201, 8))) || ' ' ||
    lower(hex(substr(s.bands, 209, 8))) || ' ' || lower(hex(substr(s.bands, 217, 8))) || ' ' ||
    lower(hex(substr(s.bands, 225, 8))) || ' ' || lower(hex(substr(s.bands, 233, 8))) || ' ' ||
    lower(hex(substr(s.bands, 241, 8))) || ' ' || lower(hex(substr(s.bands, 249, 8)))
FROM question_signatures s JOIN questions q ON q.id = s.question_id;

DROP TABLE signature_bands;
