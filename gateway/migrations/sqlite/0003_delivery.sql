-- Delivery (issue 4): craftsmen and their channels, the routes from a buyer's
-- supplier codes to them, and the outbox that carries every routed order to every
-- channel of its craftsman, with a log of each attempt.

CREATE TABLE craftsmen (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    language   TEXT NOT NULL CHECK (language IN ('id', 'en')),
    -- hex SHA-256 of the craftsman's token (the inbox's credential); never the token.
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- Where a craftsman receives orders besides the inbox, which every craftsman has.
CREATE TABLE channels (
    id              TEXT PRIMARY KEY,
    craftsman_id    TEXT NOT NULL REFERENCES craftsmen (id),
    kind            TEXT NOT NULL CHECK (kind IN ('webhook', 'email', 'whatsapp', 'telegram')),
    target          TEXT NOT NULL,          -- JSON ChannelTarget (a webhook's secret too)
    -- Set when the receiver asked to be left alone (a webhook's 410 Gone); an admin
    -- enables the channel again.
    disabled_at     TEXT,
    disabled_reason TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX channels_craftsman ON channels (craftsman_id, id);

-- A buyer's code for a supplier names one craftsman.
CREATE TABLE routes (
    buyer_id      TEXT NOT NULL REFERENCES buyers (id),
    supplier_code TEXT NOT NULL,
    craftsman_id  TEXT NOT NULL REFERENCES craftsmen (id),
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (buyer_id, supplier_code)
);

-- Orders learn their craftsman, and `unrouted` for a supplier code with no route.
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt.
-- Orders stored before routing existed had none: they become `unrouted`, to be
-- delivered once their route is added.
CREATE TABLE orders_new (
    id                 TEXT PRIMARY KEY,
    message_id         TEXT NOT NULL REFERENCES messages (id),
    buyer_id           TEXT NOT NULL REFERENCES buyers (id),
    buyer_order_number TEXT NOT NULL,
    supplier_code      TEXT NOT NULL,
    craftsman_id       TEXT REFERENCES craftsmen (id),
    status             TEXT NOT NULL DEFAULT 'unrouted'
                       CHECK (status IN ('unrouted', 'received', 'delivered', 'failed')),
    body               TEXT NOT NULL,       -- the canonical purchase order, JSON
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
INSERT INTO orders_new (id, message_id, buyer_id, buyer_order_number, supplier_code,
                        craftsman_id, status, body, created_at, updated_at)
SELECT id, message_id, buyer_id, buyer_order_number, supplier_code, NULL, 'unrouted', body,
       created_at, updated_at
FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;

CREATE INDEX orders_buyer_id ON orders (buyer_id, id);
CREATE INDEX orders_buyer_status_id ON orders (buyer_id, status, id);
CREATE INDEX orders_status_id ON orders (status, id);
CREATE INDEX orders_message_id ON orders (message_id);
-- A craftsman's inbox, newest first.
CREATE INDEX orders_craftsman_id ON orders (craftsman_id, id) WHERE craftsman_id IS NOT NULL;
-- Routing the orders that waited for a route.
CREATE INDEX orders_unrouted ON orders (buyer_id, supplier_code) WHERE status = 'unrouted';

-- The outbox: one row per (order, channel), written in the transaction that routes
-- the order. Its id is the `webhook-id`, the same on every attempt.
CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    order_id         TEXT NOT NULL REFERENCES orders (id),
    channel_id       TEXT NOT NULL REFERENCES channels (id),
    state            TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- attempts when the retry schedule (re)started: an admin's retry starts it anew.
    schedule_base    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,                  -- when pending: due from then
    claimed_until    TEXT,                  -- a worker's lease while it sends
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    delivered_at     TEXT,
    UNIQUE (order_id, channel_id)
);
-- Workers look for due rows; only pending ones can be due.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_state_id ON deliveries (state, id);
CREATE INDEX deliveries_channel ON deliveries (channel_id);

CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL REFERENCES deliveries (id),
    attempt     INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('succeeded', 'retry', 'permanent', 'disable')),
    status_code INTEGER,
    error       TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
