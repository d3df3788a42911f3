-- An account owns its email only once it proves it (docs/decisions/0016). Until then it is pending:
-- any number of pending accounts may name one email, and the first to verify owns it. The unique
-- key moves to owned_email_key, which a pending account fills with a placeholder of its own (a
-- column's NOT NULL cannot be dropped in SQLite); email_key is the canonical email of every account.
ALTER TABLE accounts RENAME COLUMN email_key TO owned_email_key;
ALTER TABLE accounts ADD COLUMN email_key TEXT NULL;
UPDATE accounts SET email_key = owned_email_key;
UPDATE accounts SET owned_email_key = 'pending:' || account_id WHERE email_verified_at IS NULL;
CREATE INDEX accounts_email_key ON accounts (email_key);
CREATE INDEX accounts_pending ON accounts (created_at) WHERE email_verified_at IS NULL;

-- Orders are matched to an account by the same canonical email (Unicode NFKC, case-folded), which
-- the service computes; orders placed before this have their lower-cased email.
ALTER TABLE orders ADD COLUMN email_key TEXT NULL;
UPDATE orders SET email_key = LOWER(email);
CREATE INDEX orders_email_canonical ON orders (email_key);
