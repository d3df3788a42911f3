-- Every status an order has had, appended and never rewritten, so support can see when and why it changed.
CREATE TABLE order_status_history (
    change_id   TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES orders (order_id),
    status      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    changed_at  {{timestamptz}} NOT NULL
);

CREATE INDEX order_status_history_order ON order_status_history (order_id, changed_at);

-- Webhooks find an order by the payment intent that paid it.
CREATE INDEX orders_payment_intent ON orders (payment_intent_id);
