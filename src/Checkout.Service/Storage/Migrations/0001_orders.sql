-- Orders: one per cart, enforced here and not only in code.
CREATE TABLE orders (
    order_id                TEXT PRIMARY KEY,
    cart_id                 TEXT NOT NULL,
    session_id              TEXT NOT NULL,
    email                   TEXT NOT NULL,
    confirmation_token_hash TEXT NOT NULL,
    status                  TEXT NOT NULL,
    total_cents             BIGINT NOT NULL CHECK (total_cents >= 0),
    currency                TEXT NOT NULL,
    lines                   TEXT NOT NULL,
    shipping_address        TEXT NOT NULL,
    payment_method_id       TEXT NOT NULL,
    payment_intent_id       TEXT NOT NULL,
    charge_id               TEXT NOT NULL,
    estimated_delivery      {{timestamptz}} NOT NULL,
    created_at              {{timestamptz}} NOT NULL,
    updated_at              {{timestamptz}} NOT NULL,
    CONSTRAINT orders_one_per_cart UNIQUE (cart_id),
    CONSTRAINT orders_confirmation_token_unique UNIQUE (confirmation_token_hash)
);

CREATE INDEX orders_email ON orders (email);
