-- A purchase whose bank asks the shopper to authenticate (3-D Secure) waits with its cart held.
-- The journal then holds everything its order needs, so the webhook or the sweep can place the
-- order even if the shopper never comes back: the intent it waits on, until when, and the order.
ALTER TABLE payment_journal ADD COLUMN intent_id TEXT NULL;
ALTER TABLE payment_journal ADD COLUMN awaiting_until {{timestamptz}} NULL;
ALTER TABLE payment_journal ADD COLUMN pending_order TEXT NULL;

CREATE INDEX payment_journal_intent ON payment_journal (intent_id) WHERE intent_id IS NOT NULL;
CREATE INDEX payment_journal_awaiting ON payment_journal (awaiting_until) WHERE settled_at IS NULL AND awaiting_until IS NOT NULL;
