-- Reminders (issue 10, part 4): an order with no answer a while after it reached
-- its craftsman reminds them once, on each of their channels, through the outbox.
--
-- When the order reached its craftsman (was routed): its wait for an answer starts
-- then. Orders routed before this migration take their creation time, which is
-- when nearly all of them were routed.
ALTER TABLE orders ADD COLUMN routed_at TEXT;
UPDATE orders SET routed_at = created_at WHERE craftsman_id IS NOT NULL;
-- When the reminder was decided: set in the transaction that writes the reminder's
-- deliveries, so an order is reminded once whatever restarts come between.
ALTER TABLE orders ADD COLUMN reminded_at TEXT;
-- The orders that may still need a reminder, by when they began waiting: the
-- scan for due reminders reads a range of this small index, never the table. An
-- order leaves it when it is answered or reminded.
CREATE INDEX orders_reminder_due ON orders (routed_at)
    WHERE routed_at IS NOT NULL AND reminded_at IS NULL AND response IS NULL;

-- A delivery is now of one of three kinds: an order to a craftsman's channel, a
-- response to its buyer's callback, or a reminder of an unanswered order to a
-- craftsman's channel. A reminder goes to a channel that already has the order's
-- delivery, which the old UNIQUE (order_id, channel_id) forbade, and SQLite cannot
-- change a constraint in place, so the outbox is rebuilt, with its attempts (as
-- migration 0010 did, for the same reason: no attempt may point at a table being
-- dropped while foreign keys are on).
CREATE TABLE deliveries_new (
    id               TEXT PRIMARY KEY,
    order_id         TEXT NOT NULL REFERENCES orders (id),
    kind             TEXT NOT NULL CHECK (kind IN ('order', 'response', 'reminder')),
    channel_id       TEXT REFERENCES channels (id),
    response_id      TEXT REFERENCES order_responses (id),
    state            TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    schedule_base    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    claimed_until    TEXT,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    delivered_at     TEXT,
    delivered_parts  TEXT NOT NULL DEFAULT '[]',
    -- A response goes to the buyer's callback, the other kinds to a channel.
    CHECK ((kind = 'response') = (response_id IS NOT NULL)),
    CHECK ((kind = 'response') = (channel_id IS NULL)),
    -- One order and one reminder per (order, channel): a reminder decided twice
    -- could not be stored twice. Its index also finds an order's deliveries.
    UNIQUE (order_id, channel_id, kind),
    UNIQUE (response_id)
);
INSERT INTO deliveries_new (id, order_id, kind, channel_id, response_id, state, attempts,
                            schedule_base, next_attempt_at, claimed_until, last_status_code,
                            last_error, created_at, updated_at, delivered_at, delivered_parts)
SELECT id, order_id, CASE WHEN response_id IS NULL THEN 'order' ELSE 'response' END,
       channel_id, response_id, state, attempts, schedule_base, next_attempt_at,
       claimed_until, last_status_code, last_error, created_at, updated_at, delivered_at,
       delivered_parts
FROM deliveries;

CREATE TABLE delivery_attempts_new (
    delivery_id TEXT NOT NULL REFERENCES deliveries_new (id),
    attempt     INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('succeeded', 'retry', 'permanent', 'disable')),
    status_code INTEGER,
    error       TEXT,
    message_id  TEXT,
    receipt     TEXT CHECK (receipt IN ('sent', 'delivered', 'read', 'failed')),
    receipt_at  TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
INSERT INTO delivery_attempts_new (delivery_id, attempt, started_at, duration_ms, outcome,
                                   status_code, error, message_id, receipt, receipt_at)
SELECT delivery_id, attempt, started_at, duration_ms, outcome, status_code, error,
       message_id, receipt, receipt_at
FROM delivery_attempts;

DROP TABLE delivery_attempts;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
ALTER TABLE delivery_attempts_new RENAME TO delivery_attempts;

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_state_id ON deliveries (state, id);
CREATE INDEX deliveries_channel ON deliveries (channel_id);
CREATE INDEX delivery_attempts_started ON delivery_attempts (started_at);
CREATE INDEX delivery_attempts_message_id ON delivery_attempts (message_id)
    WHERE message_id IS NOT NULL;
