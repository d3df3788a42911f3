-- Guest-to-registered: an account per email, the orders that joined it, its sign-in tokens and
-- email proofs (secrets kept only as hashes), and the events a relay will publish.
CREATE TABLE accounts (
    account_id         TEXT PRIMARY KEY,
    email              TEXT NOT NULL,
    email_key          TEXT NOT NULL,
    password_hash      TEXT NOT NULL,
    email_verified_at  {{timestamptz}} NULL,
    created_at         {{timestamptz}} NOT NULL,
    CONSTRAINT accounts_one_per_email UNIQUE (email_key)
);

ALTER TABLE orders ADD COLUMN account_id TEXT NULL;
CREATE INDEX orders_account ON orders (account_id);
CREATE INDEX orders_email_key ON orders (LOWER(email));

CREATE TABLE account_access_tokens (
    token_hash  TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (account_id),
    expires_at  {{timestamptz}} NOT NULL
);

CREATE TABLE email_verifications (
    account_id  TEXT PRIMARY KEY REFERENCES accounts (account_id),
    code_hash   TEXT NOT NULL,
    expires_at  {{timestamptz}} NOT NULL,
    attempts    INTEGER NOT NULL
);

-- account.email_verification and kin, waiting for the events relay to publish them.
CREATE TABLE pending_events (
    event_id    TEXT PRIMARY KEY,
    topic       TEXT NOT NULL,
    event_key   TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  {{timestamptz}} NOT NULL
);
