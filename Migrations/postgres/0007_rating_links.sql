-- Rating links belong to the customer: nothing stores them any more (tokens are derived again when sent, see
-- RatingLinks). Links written before this migration are removed from the timeline, and from outbox messages that
-- were delivered or dead-lettered. Messages still pending keep theirs until they are sent; the outbox removes it then.
UPDATE question_events SET data = (data::jsonb - 'rating_url')::text
WHERE type = 'question.resolved' AND data LIKE '%"rating\_url"%';

UPDATE outbox_messages
SET payload = convert_to(((convert_from(payload, 'UTF8')::jsonb) #- '{data,rating_url}')::text, 'UTF8')
WHERE event_type = 'question.resolved' AND state IN ('delivered', 'dead')
AND convert_from(payload, 'UTF8') LIKE '%"rating\_url"%';
