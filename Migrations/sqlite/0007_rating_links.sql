-- Rating links belong to the customer: nothing stores them any more (tokens are derived again when sent, see
-- RatingLinks). Links written before this migration are removed from the timeline, and from outbox messages that
-- were delivered or dead-lettered. Messages still pending keep theirs until they are sent; the outbox removes it then.
UPDATE question_events SET data = json_remove(data, '$.rating_url')
WHERE type = 'question.resolved' AND data LIKE '%"rating\_url"%' ESCAPE '\';

UPDATE outbox_messages SET payload = CAST(json_remove(CAST(payload AS TEXT), '$.data.rating_url') AS BLOB)
WHERE event_type = 'question.resolved' AND state IN ('delivered', 'dead')
AND CAST(payload AS TEXT) LIKE '%"rating\_url"%' ESCAPE '\';
