-- The queue walks open questions best first (priority, then age) and stops after a page, instead of sorting every
-- open question on each request.
CREATE INDEX questions_open_by_rank ON questions (priority_rank DESC, created_at, id) WHERE state = 'open';
