-- Stripe's charge.refunded carries the cumulative amount_refunded: kept here, it only grows, so a
-- late event for a smaller refund cannot take a refunded order back to partially refunded.
ALTER TABLE orders ADD COLUMN amount_refunded_cents BIGINT NOT NULL DEFAULT 0 CHECK (amount_refunded_cents >= 0);

-- Orders refunded before this column existed were refunded in full.
UPDATE orders SET amount_refunded_cents = total_cents WHERE status = 'refunded';
