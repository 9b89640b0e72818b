-- Fail closed and retention (issue 8).

-- The one row the gateway writes every few seconds to learn whether its database
-- can still be written: a full disk, a read-only or vanished file, a damaged page.
CREATE TABLE health_probe (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TEXT NOT NULL
);

-- When retention deleted the message's body. Its hash, headers, outcome,
-- transactions and orders stay; a message without its body cannot be replayed.
ALTER TABLE messages ADD COLUMN body_purged_at TEXT;

-- Retention finds the oldest messages whose bodies are still kept.
CREATE INDEX messages_kept_bodies ON messages (received_at) WHERE body_purged_at IS NULL;

-- And the oldest attempts.
CREATE INDEX delivery_attempts_started ON delivery_attempts (started_at);
