-- The transactional outbox: every event is written in the transaction of the change it tells of,
-- and the relay marks it sent only once the broker has acknowledged it. A message that keeps
-- failing is parked with its error, so it never holds up the ones behind it.
CREATE TABLE outbox (
    seq          {{identity}},
    event_id     TEXT NOT NULL UNIQUE,
    topic        TEXT NOT NULL,
    event_key    TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   {{timestamptz}} NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NULL,
    retry_at     {{timestamptz}} NULL,
    sent_at      {{timestamptz}} NULL,
    parked_at    {{timestamptz}} NULL
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL AND parked_at IS NULL;
CREATE INDEX outbox_topic_key ON outbox (topic, event_key);

INSERT INTO outbox (event_id, topic, event_key, event_type, payload, created_at)
SELECT event_id, topic, event_key, topic, payload, created_at FROM pending_events ORDER BY created_at, event_id;
DROP TABLE pending_events;
