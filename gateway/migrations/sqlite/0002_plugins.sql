-- The plugin lifecycle (issue 3): versioned plugin artifacts, a buyer bound to one
-- version with a visible history of bindings, and failed messages that can be
-- reopened and replayed without losing the earlier attempts.

-- Uploaded plugin components. The bytes live here so that the store is the one
-- source of plugins when several gateway instances share it. Rows are never deleted:
-- old versions stay for rollback, and rowid order is upload order.
CREATE TABLE plugins (
    sha256        TEXT PRIMARY KEY,         -- hex SHA-256 of `wasm`
    name          TEXT NOT NULL,
    version       TEXT NOT NULL,
    description   TEXT NOT NULL,
    content_types TEXT NOT NULL,            -- JSON array of media types
    size_bytes    INTEGER NOT NULL,
    wasm          BLOB NOT NULL,
    uploaded_at   TEXT NOT NULL,
    UNIQUE (name, version)
);

-- NULL = the latest version of the named plugin; a value pins that version.
ALTER TABLE buyers ADD COLUMN plugin_version TEXT;

-- Every binding a buyer has had, so that a rollback target is always visible.
-- `seq` orders changes made within one millisecond.
CREATE TABLE buyer_plugin_history (
    seq            INTEGER PRIMARY KEY,
    buyer_id       TEXT NOT NULL REFERENCES buyers (id),
    plugin         TEXT NOT NULL,
    plugin_version TEXT,
    plugin_config  TEXT NOT NULL,           -- JSON
    changed_at     TEXT NOT NULL
);
CREATE INDEX buyer_plugin_history_buyer ON buyer_plugin_history (buyer_id, seq);

-- The buyers that exist already start their history with their current binding.
INSERT INTO buyer_plugin_history (buyer_id, plugin, plugin_version, plugin_config, changed_at)
SELECT id, plugin, NULL, plugin_config, created_at FROM buyers ORDER BY id;

-- How many times the message has been processed to an outcome (0 while it waits for
-- its first), and by which plugin the current outcome was made, when the caller said.
ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN plugin_name TEXT;
ALTER TABLE messages ADD COLUMN plugin_version TEXT;
UPDATE messages SET attempts = 1 WHERE status <> 'received';

-- The outcomes a reopened message left behind; the current one stays on the message.
CREATE TABLE message_attempts (
    message_id     TEXT NOT NULL REFERENCES messages (id),
    attempt        INTEGER NOT NULL,        -- messages.attempts when it was reopened
    status         TEXT NOT NULL CHECK (status IN ('normalized', 'failed')),
    error          TEXT,                    -- JSON problem details
    plugin_name    TEXT,
    plugin_version TEXT,
    processed_at   TEXT NOT NULL,
    reopened_at    TEXT NOT NULL,
    note           TEXT,                    -- JSON: why, and by whom, it was reopened
    PRIMARY KEY (message_id, attempt)
);

-- Message listings page by id (newest first) within a buyer or a status; a buyer and
-- a status together use the buyer's index and filter.
CREATE INDEX messages_buyer_id ON messages (buyer_id, id);
CREATE INDEX messages_status_id ON messages (status, id);
