-- jembatan's schema on PostgreSQL: the SQLite schema as migrations/sqlite/0001-0016
-- leave it, table for table, in PostgreSQL's dialect. No PostgreSQL deployment
-- existed before it, so it starts as one file; later changes are new files.
--
-- The values are those the SQLite engine stores, so the engine-neutral row structs
-- (store::rows) read both alike: ids TEXT, JSON as TEXT (kept byte for byte, which
-- JSONB would not), times as RFC 3339 UTC text with exactly three fractional digits,
-- integers BIGINT, bytes BYTEA. Every TEXT column compares in the "C" collation,
-- byte by byte as SQLite's BINARY does, so id order and time order are text order
-- whatever the database's default collation.

CREATE TABLE buyers (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT COLLATE "C" NOT NULL,
    plugin        TEXT COLLATE "C" NOT NULL,
    plugin_config TEXT COLLATE "C" NOT NULL,            -- JSON
    -- hex SHA-256 of the buyer's API key; unique so one key can never name two buyers.
    api_key_hash  TEXT COLLATE "C" NOT NULL UNIQUE,
    limits        TEXT COLLATE "C",                     -- JSON, NULL = defaults
    created_at    TEXT COLLATE "C" NOT NULL
, plugin_version TEXT COLLATE "C", callback_url TEXT COLLATE "C", callback_secret TEXT COLLATE "C");
CREATE TABLE messages (
    id              TEXT COLLATE "C" PRIMARY KEY,
    buyer_id        TEXT COLLATE "C" NOT NULL REFERENCES buyers (id),
    received_via    TEXT COLLATE "C" NOT NULL CHECK (received_via IN ('http', 'email')),
    content_type    TEXT COLLATE "C" NOT NULL,
    headers         TEXT COLLATE "C" NOT NULL,          -- JSON
    body            BYTEA NOT NULL,
    body_sha256     TEXT COLLATE "C" NOT NULL,
    idempotency_key TEXT COLLATE "C",
    status          TEXT COLLATE "C" NOT NULL DEFAULT 'received'
                    CHECK (status IN ('received', 'normalized', 'failed')),
    error           TEXT COLLATE "C",                   -- JSON problem details when failed
    response_status BIGINT,                -- what we answered, for idempotent replays
    response_body   TEXT COLLATE "C",                   -- JSON
    received_at     TEXT COLLATE "C" NOT NULL,
    processed_at    TEXT COLLATE "C"
, attempts BIGINT NOT NULL DEFAULT 0, plugin_name TEXT COLLATE "C", plugin_version TEXT COLLATE "C", warnings TEXT COLLATE "C" NOT NULL DEFAULT '[]', body_purged_at TEXT COLLATE "C");
CREATE UNIQUE INDEX messages_buyer_idempotency_key ON messages (buyer_id, idempotency_key);
CREATE INDEX messages_received ON messages (id) WHERE status = 'received';
CREATE TABLE plugins (
    sha256        TEXT COLLATE "C" PRIMARY KEY,         -- hex SHA-256 of `wasm`
    name          TEXT COLLATE "C" NOT NULL,
    version       TEXT COLLATE "C" NOT NULL,
    description   TEXT COLLATE "C" NOT NULL,
    content_types TEXT COLLATE "C" NOT NULL,            -- JSON array of media types
    size_bytes    BIGINT NOT NULL,
    wasm          BYTEA NOT NULL,
    uploaded_at   TEXT COLLATE "C" NOT NULL,
    -- Upload order, exact even within one millisecond (SQLite's rowid).
    seq           BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (name, version)
);
CREATE TABLE buyer_plugin_history (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    buyer_id       TEXT COLLATE "C" NOT NULL REFERENCES buyers (id),
    plugin         TEXT COLLATE "C" NOT NULL,
    plugin_version TEXT COLLATE "C",
    plugin_config  TEXT COLLATE "C" NOT NULL,           -- JSON
    changed_at     TEXT COLLATE "C" NOT NULL
);
CREATE INDEX buyer_plugin_history_buyer ON buyer_plugin_history (buyer_id, seq);
CREATE TABLE message_attempts (
    message_id     TEXT COLLATE "C" NOT NULL REFERENCES messages (id),
    attempt        BIGINT NOT NULL,        -- messages.attempts when it was reopened
    status         TEXT COLLATE "C" NOT NULL CHECK (status IN ('normalized', 'failed')),
    error          TEXT COLLATE "C",                    -- JSON problem details
    plugin_name    TEXT COLLATE "C",
    plugin_version TEXT COLLATE "C",
    processed_at   TEXT COLLATE "C" NOT NULL,
    reopened_at    TEXT COLLATE "C" NOT NULL,
    note           TEXT COLLATE "C",                    -- JSON: why, and by whom, it was reopened
    PRIMARY KEY (message_id, attempt)
);
CREATE INDEX messages_buyer_id ON messages (buyer_id, id);
CREATE INDEX messages_status_id ON messages (status, id);
CREATE TABLE craftsmen (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    language   TEXT COLLATE "C" NOT NULL CHECK (language IN ('id', 'en')),
    -- hex SHA-256 of the craftsman's token (the inbox's credential); never the token.
    token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL
);
CREATE TABLE channels (
    id              TEXT COLLATE "C" PRIMARY KEY,
    craftsman_id    TEXT COLLATE "C" NOT NULL REFERENCES craftsmen (id),
    kind            TEXT COLLATE "C" NOT NULL CHECK (kind IN ('webhook', 'email', 'whatsapp', 'telegram')),
    target          TEXT COLLATE "C" NOT NULL,          -- JSON ChannelTarget (a webhook's secret too)
    -- Set when the receiver asked to be left alone (a webhook's 410 Gone); an admin
    -- enables the channel again.
    disabled_at     TEXT COLLATE "C",
    disabled_reason TEXT COLLATE "C",
    created_at      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX channels_craftsman ON channels (craftsman_id, id);
CREATE TABLE routes (
    buyer_id      TEXT COLLATE "C" NOT NULL REFERENCES buyers (id),
    supplier_code TEXT COLLATE "C" NOT NULL,
    craftsman_id  TEXT COLLATE "C" NOT NULL REFERENCES craftsmen (id),
    updated_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (buyer_id, supplier_code)
);
CREATE TABLE orders (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    message_id         TEXT COLLATE "C" NOT NULL REFERENCES messages (id),
    buyer_id           TEXT COLLATE "C" NOT NULL REFERENCES buyers (id),
    buyer_order_number TEXT COLLATE "C" NOT NULL,
    supplier_code      TEXT COLLATE "C" NOT NULL,
    craftsman_id       TEXT COLLATE "C" REFERENCES craftsmen (id),
    status             TEXT COLLATE "C" NOT NULL DEFAULT 'unrouted'
                       CHECK (status IN ('unrouted', 'received', 'delivered', 'failed')),
    body               TEXT COLLATE "C" NOT NULL,       -- the canonical purchase order, JSON
    created_at         TEXT COLLATE "C" NOT NULL,
    updated_at         TEXT COLLATE "C" NOT NULL
, schema_version BIGINT NOT NULL DEFAULT 1, response TEXT COLLATE "C"
    CHECK (response IN ('accepted', 'rejected', 'accepted_with_changes')), routed_at TEXT COLLATE "C", reminded_at TEXT COLLATE "C");
CREATE INDEX orders_buyer_id ON orders (buyer_id, id);
CREATE INDEX orders_buyer_status_id ON orders (buyer_id, status, id);
CREATE INDEX orders_status_id ON orders (status, id);
CREATE INDEX orders_message_id ON orders (message_id);
CREATE INDEX orders_craftsman_id ON orders (craftsman_id, id) WHERE craftsman_id IS NOT NULL;
CREATE INDEX orders_unrouted ON orders (buyer_id, supplier_code) WHERE status = 'unrouted';
CREATE TABLE inbox_sessions (
    id_hash      TEXT COLLATE "C" PRIMARY KEY,          -- hex SHA-256 of the cookie's session id
    craftsman_id TEXT COLLATE "C" NOT NULL REFERENCES craftsmen (id),
    created_at   TEXT COLLATE "C" NOT NULL,
    expires_at   TEXT COLLATE "C" NOT NULL,
    ended_at     TEXT COLLATE "C"                       -- set at logout or when the token changes
);
CREATE INDEX inbox_sessions_craftsman ON inbox_sessions (craftsman_id) WHERE ended_at IS NULL;
CREATE TABLE transactions (
    message_id     TEXT COLLATE "C"    NOT NULL REFERENCES messages (id),
    idx            BIGINT NOT NULL CHECK (idx >= 0),
    control_number TEXT COLLATE "C",
    status         TEXT COLLATE "C"    NOT NULL CHECK (status IN ('ok', 'refused', 'not_an_order')),
    order_id       TEXT COLLATE "C"    REFERENCES orders (id),
    error          TEXT COLLATE "C",                       -- JSON, when refused
    kind           TEXT COLLATE "C",                       -- what a document that is not an order is
    reason         TEXT COLLATE "C",
    warnings       TEXT COLLATE "C"    NOT NULL DEFAULT '[]', -- JSON list
    PRIMARY KEY (message_id, idx),
    CHECK ((status = 'ok') = (order_id IS NOT NULL)),
    CHECK ((status = 'refused') = (error IS NOT NULL))
);
CREATE TABLE health_probe (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    checked_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX messages_kept_bodies ON messages (received_at) WHERE body_purged_at IS NULL;
CREATE TABLE whatsapp_contacts (
    wa_id           TEXT COLLATE "C" PRIMARY KEY,
    opted_in_at     TEXT COLLATE "C",
    opt_in_source   TEXT COLLATE "C",                   -- how the consent was given, as the admin said
    last_inbound_at TEXT COLLATE "C",
    updated_at      TEXT COLLATE "C" NOT NULL
);
CREATE TABLE order_responses (
    id         TEXT COLLATE "C" PRIMARY KEY,
    order_id   TEXT COLLATE "C" NOT NULL REFERENCES orders (id),
    sequence   BIGINT NOT NULL CHECK (sequence >= 1),
    status     TEXT COLLATE "C" NOT NULL CHECK (status IN ('accepted', 'rejected', 'accepted_with_changes')),
    body       TEXT COLLATE "C" NOT NULL,
    event_key  TEXT COLLATE "C" UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL,
    -- Two answers racing for the same place: one is stored, the other refused.
    UNIQUE (order_id, sequence)
);
CREATE INDEX orders_buyer_response_id ON orders (buyer_id, response, id);
CREATE TABLE buyer_email (
    buyer_id           TEXT COLLATE "C" PRIMARY KEY REFERENCES buyers (id),
    address_token_hash TEXT COLLATE "C" UNIQUE,
    senders            TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    language           TEXT COLLATE "C" NOT NULL DEFAULT 'id'
);
CREATE TABLE email_replies (
    message_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES messages (id),
    recipient   TEXT COLLATE "C" NOT NULL,
    state       TEXT COLLATE "C" NOT NULL,              -- sending, sent, failed
    detail      TEXT COLLATE "C",
    created_at  TEXT COLLATE "C" NOT NULL,
    finished_at TEXT COLLATE "C"
, attempt BIGINT, outcome TEXT COLLATE "C");
CREATE TABLE rendered_responses (
    response_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES order_responses (id),
    plugin_name    TEXT COLLATE "C" NOT NULL,
    plugin_version TEXT COLLATE "C" NOT NULL,
    content_type   TEXT COLLATE "C",
    body           BYTEA,
    error          TEXT COLLATE "C",
    created_at     TEXT COLLATE "C" NOT NULL,
    CHECK ((body IS NULL) <> (error IS NULL)),
    CHECK ((body IS NULL) = (content_type IS NULL))
);
CREATE TABLE control_numbers (
    buyer_id TEXT COLLATE "C" PRIMARY KEY REFERENCES buyers (id),
    last     BIGINT NOT NULL CHECK (last >= 1)
);
CREATE TABLE chat_reason_questions (
    id           TEXT COLLATE "C" PRIMARY KEY,
    chat_kind    TEXT COLLATE "C" NOT NULL CHECK (chat_kind IN ('whatsapp', 'telegram')),
    chat_id      TEXT COLLATE "C" NOT NULL,
    order_id     TEXT COLLATE "C" NOT NULL REFERENCES orders (id),
    craftsman_id TEXT COLLATE "C" NOT NULL REFERENCES craftsmen (id),
    event_key    TEXT COLLATE "C" NOT NULL UNIQUE,
    asked_at     TEXT COLLATE "C" NOT NULL,
    expires_at   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX chat_reason_questions_chat ON chat_reason_questions (chat_kind, chat_id, asked_at);
CREATE INDEX chat_reason_questions_expiry ON chat_reason_questions (expires_at);
CREATE TABLE telegram_updates (
    update_id BIGINT PRIMARY KEY,
    seen_at   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX telegram_updates_seen ON telegram_updates (seen_at);
CREATE INDEX orders_reminder_due ON orders (routed_at)
    WHERE routed_at IS NOT NULL AND reminded_at IS NULL AND response IS NULL;
CREATE TABLE deliveries (
    id               TEXT COLLATE "C" PRIMARY KEY,
    order_id         TEXT COLLATE "C" NOT NULL REFERENCES orders (id),
    kind             TEXT COLLATE "C" NOT NULL CHECK (kind IN ('order', 'response', 'reminder')),
    channel_id       TEXT COLLATE "C" REFERENCES channels (id),
    response_id      TEXT COLLATE "C" REFERENCES order_responses (id),
    state            TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending', 'succeeded', 'dead')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    schedule_base    BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TEXT COLLATE "C",
    claimed_until    TEXT COLLATE "C",
    -- Which gateway instance holds the lease (`claimed_until`): several share the
    -- outbox, and a lease that ran out may be taken over by another.
    claimed_by       TEXT COLLATE "C",
    last_status_code BIGINT,
    last_error       TEXT COLLATE "C",
    created_at       TEXT COLLATE "C" NOT NULL,
    updated_at       TEXT COLLATE "C" NOT NULL,
    delivered_at     TEXT COLLATE "C",
    delivered_parts  TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    -- A response goes to the buyer's callback, the other kinds to a channel.
    CHECK ((kind = 'response') = (response_id IS NOT NULL)),
    CHECK ((kind = 'response') = (channel_id IS NULL)),
    -- One order and one reminder per (order, channel): a reminder decided twice
    -- could not be stored twice. Its index also finds an order's deliveries.
    UNIQUE (order_id, channel_id, kind),
    UNIQUE (response_id)
);
CREATE TABLE delivery_attempts (
    delivery_id TEXT COLLATE "C" NOT NULL REFERENCES deliveries (id),
    attempt     BIGINT NOT NULL,
    started_at  TEXT COLLATE "C" NOT NULL,
    duration_ms BIGINT NOT NULL,
    outcome     TEXT COLLATE "C" NOT NULL CHECK (outcome IN ('succeeded', 'retry', 'permanent', 'disable')),
    status_code BIGINT,
    error       TEXT COLLATE "C",
    message_id  TEXT COLLATE "C",
    receipt     TEXT COLLATE "C" CHECK (receipt IN ('sent', 'delivered', 'read', 'failed')),
    receipt_at  TEXT COLLATE "C",
    PRIMARY KEY (delivery_id, attempt)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_state_id ON deliveries (state, id);
CREATE INDEX deliveries_channel ON deliveries (channel_id);
CREATE INDEX delivery_attempts_started ON delivery_attempts (started_at);
CREATE INDEX delivery_attempts_message_id ON delivery_attempts (message_id)
    WHERE message_id IS NOT NULL;
CREATE TABLE channel_pauses (
    channel         TEXT COLLATE "C" PRIMARY KEY CHECK (channel IN ('webhook', 'email', 'whatsapp', 'telegram')),
    reason          TEXT COLLATE "C" NOT NULL,
    since           TEXT COLLATE "C" NOT NULL,
    last_failure_at TEXT COLLATE "C" NOT NULL
);
CREATE TABLE admin_alerts (
    id              TEXT COLLATE "C" PRIMARY KEY,
    event           TEXT COLLATE "C" NOT NULL CHECK (event IN ('channel.paused', 'channel.resumed')),
    channel         TEXT COLLATE "C" NOT NULL,
    reason          TEXT COLLATE "C",
    occurred_at     TEXT COLLATE "C" NOT NULL,
    state           TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT COLLATE "C",
    last_error      TEXT COLLATE "C",
    sent_at         TEXT COLLATE "C"
);
CREATE INDEX admin_alerts_due ON admin_alerts (state, next_attempt_at);
