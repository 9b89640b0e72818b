-- Closing the loop (issue 10): craftsmen answer orders, and buyers hear it.
--
-- Every response to an order, kept: a later one supersedes the earlier (its
-- `sequence` is one more), none is ever changed or deleted. `body` is the response as
-- schemas/order-response.schema.json describes it. `event_key` names the chat event
-- a response came from (a Telegram callback query, a WhatsApp message id), so a
-- replayed event stores nothing.
CREATE TABLE order_responses (
    id         TEXT PRIMARY KEY,
    order_id   TEXT NOT NULL REFERENCES orders (id),
    sequence   INTEGER NOT NULL CHECK (sequence >= 1),
    status     TEXT NOT NULL CHECK (status IN ('accepted', 'rejected', 'accepted_with_changes')),
    body       TEXT NOT NULL,
    event_key  TEXT UNIQUE,
    created_at TEXT NOT NULL,
    -- Two answers racing for the same place: one is stored, the other refused.
    UNIQUE (order_id, sequence)
);

-- The order's answer now (its latest response's status; NULL while unanswered),
-- kept with the order so that listings filter on it with an index.
ALTER TABLE orders ADD COLUMN response TEXT
    CHECK (response IN ('accepted', 'rejected', 'accepted_with_changes'));
CREATE INDEX orders_buyer_response_id ON orders (buyer_id, response, id);

-- Where a buyer hears of responses: a URL the admin sets, signed with a Standard
-- Webhooks secret kept here as the craftsmen's webhook secrets are kept in their
-- channel targets (the gateway signs with it, so it cannot be stored as a hash).
ALTER TABLE buyers ADD COLUMN callback_url TEXT;
ALTER TABLE buyers ADD COLUMN callback_secret TEXT;

-- The outbox carries responses to buyers beside orders to craftsmen: a delivery is
-- either an order to a channel (`channel_id`) or a response to its buyer's callback
-- (`response_id`). SQLite cannot make a column nullable in place, so the outbox is
-- rebuilt. Its attempts are rebuilt with it, pointing at the new table, so that no
-- attempt is ever left pointing at a table being dropped (foreign keys stay on
-- inside a migration's transaction).
CREATE TABLE deliveries_new (
    id               TEXT PRIMARY KEY,
    order_id         TEXT NOT NULL REFERENCES orders (id),
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
    CHECK ((channel_id IS NULL) <> (response_id IS NULL)),
    UNIQUE (order_id, channel_id),
    UNIQUE (response_id)
);
INSERT INTO deliveries_new (id, order_id, channel_id, state, attempts, schedule_base,
                            next_attempt_at, claimed_until, last_status_code, last_error,
                            created_at, updated_at, delivered_at, delivered_parts)
SELECT id, order_id, channel_id, state, attempts, schedule_base, next_attempt_at,
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
-- Renaming rewrites the attempts' reference to the new name.
ALTER TABLE deliveries_new RENAME TO deliveries;
ALTER TABLE delivery_attempts_new RENAME TO delivery_attempts;

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_state_id ON deliveries (state, id);
CREATE INDEX deliveries_channel ON deliveries (channel_id);
CREATE INDEX delivery_attempts_started ON delivery_attempts (started_at);
CREATE INDEX delivery_attempts_message_id ON delivery_attempts (message_id)
    WHERE message_id IS NOT NULL;
