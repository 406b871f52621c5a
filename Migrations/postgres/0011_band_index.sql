-- PostgreSQL keeps one row per band key (its B-tree takes scattered inserts in its shared buffers), SQLite moved
-- its band keys into an FTS5 index in this migration. The table says what it holds.
COMMENT ON TABLE signature_bands IS
    'One row per band key of a question''s similarity signature (docs/incidents.md), purged with the signature.';
