-- Every purchase is written down before its intent is created, so a charge can never be left
-- without an order unnoticed: the sweep reads what is still open here after the checkout deadline.
CREATE TABLE payment_journal (
    idempotency_key  TEXT PRIMARY KEY,
    cart_id          TEXT NOT NULL,
    amount_cents     BIGINT NOT NULL,
    started_at       {{timestamptz}} NOT NULL,
    settled_at       {{timestamptz}} NULL,
    outcome          TEXT NULL
);

CREATE INDEX payment_journal_open ON payment_journal (settled_at, started_at);
