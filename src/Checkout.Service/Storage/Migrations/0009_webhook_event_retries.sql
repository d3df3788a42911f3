-- An event that matches no order is retried by its own next-attempt time, backing off, and parked
-- after 72 h or 25 attempts, so events that will never match cannot crowd out those that will.
-- The keys it finds its order by are columns, so an order that has just been placed finds the
-- events waiting for it at once.
ALTER TABLE webhook_events ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE webhook_events ADD COLUMN next_attempt_at {{timestamptz}} NULL;
ALTER TABLE webhook_events ADD COLUMN parked_at {{timestamptz}} NULL;
ALTER TABLE webhook_events ADD COLUMN payment_intent_id TEXT NULL;
ALTER TABLE webhook_events ADD COLUMN order_id TEXT NULL;
ALTER TABLE webhook_events ADD COLUMN confirmation_token_hash TEXT NULL;
UPDATE webhook_events SET next_attempt_at = received_at WHERE settled_at IS NULL;

DROP INDEX webhook_events_unsettled;
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at) WHERE settled_at IS NULL AND parked_at IS NULL;
CREATE INDEX webhook_events_waiting_intent ON webhook_events (payment_intent_id) WHERE settled_at IS NULL AND parked_at IS NULL;
CREATE INDEX webhook_events_waiting_order ON webhook_events (order_id) WHERE settled_at IS NULL AND parked_at IS NULL;
CREATE INDEX webhook_events_waiting_token ON webhook_events (confirmation_token_hash) WHERE settled_at IS NULL AND parked_at IS NULL;
CREATE INDEX webhook_events_parked ON webhook_events (parked_at) WHERE settled_at IS NULL AND parked_at IS NOT NULL;

-- The webhook pass asks for the orders placed since its last look.
CREATE INDEX orders_created_at ON orders (created_at);
