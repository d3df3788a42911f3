-- Every verified Stripe event, recorded before it is answered: its id makes a replay a no-op, even
-- after a restart, and an event whose order does not exist yet waits here until it does.
CREATE TABLE webhook_events (
    event_id     TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    received_at  {{timestamptz}} NOT NULL,
    settled_at   {{timestamptz}} NULL,
    outcome      TEXT NULL
);

CREATE INDEX webhook_events_unsettled ON webhook_events (settled_at, received_at);
