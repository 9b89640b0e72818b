-- jembatan's first schema (SQLite).
--
-- Kept close to portable SQL so the PostgreSQL migrations (migrations/postgres/) can
-- mirror it table for table: TEXT ids made by the gateway (time-ordered, so id order is
-- creation order), JSON kept as TEXT, times as RFC 3339 UTC text with fixed millisecond
-- precision so that text order is time order.

CREATE TABLE buyers (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    plugin        TEXT NOT NULL,
    plugin_config TEXT NOT NULL,            -- JSON
    -- hex SHA-256 of the buyer's API key; unique so one key can never name two buyers.
    api_key_hash  TEXT NOT NULL UNIQUE,
    limits        TEXT,                     -- JSON, NULL = defaults
    created_at    TEXT NOT NULL
);

-- The raw inbound message, written before anything else happens to it.
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    buyer_id        TEXT NOT NULL REFERENCES buyers (id),
    received_via    TEXT NOT NULL CHECK (received_via IN ('http', 'email')),
    content_type    TEXT NOT NULL,
    headers         TEXT NOT NULL,          -- JSON
    body            BLOB NOT NULL,
    body_sha256     TEXT NOT NULL,
    idempotency_key TEXT,
    status          TEXT NOT NULL DEFAULT 'received'
                    CHECK (status IN ('received', 'normalized', 'failed')),
    error           TEXT,                   -- JSON problem details when failed
    response_status INTEGER,                -- what we answered, for idempotent replays
    response_body   TEXT,                   -- JSON
    received_at     TEXT NOT NULL,
    processed_at    TEXT
);

-- Idempotency: NULL keys never collide (in SQLite and PostgreSQL alike), so a plain
-- unique index serves both engines and `ON CONFLICT (buyer_id, idempotency_key)`.
CREATE UNIQUE INDEX messages_buyer_idempotency_key ON messages (buyer_id, idempotency_key);

-- Crash recovery scans only the messages still waiting for an outcome.
CREATE INDEX messages_received ON messages (id) WHERE status = 'received';

CREATE TABLE orders (
    id                 TEXT PRIMARY KEY,
    message_id         TEXT NOT NULL REFERENCES messages (id),
    buyer_id           TEXT NOT NULL REFERENCES buyers (id),
    buyer_order_number TEXT NOT NULL,
    supplier_code      TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'received'
                       CHECK (status IN ('received', 'delivered', 'failed')),
    body               TEXT NOT NULL,       -- the canonical purchase order, JSON
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

-- Listings page by id (newest first) within a buyer, a status, or both.
CREATE INDEX orders_buyer_id ON orders (buyer_id, id);
CREATE INDEX orders_buyer_status_id ON orders (buyer_id, status, id);
CREATE INDEX orders_status_id ON orders (status, id);
-- A message's orders (Message::order_ids) and the foreign key from orders to messages.
CREATE INDEX orders_message_id ON orders (message_id);
