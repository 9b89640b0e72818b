-- Channels paused for the gateway's own credentials, and the admin's alerts about
-- them (issue 13).
--
-- A channel whose credentials the service refused (an expired WhatsApp token, a
-- revoked Telegram bot token) pauses for every delivery until a send on it goes
-- through again. The pause is kept here, not only in memory, so the admin sees it
-- through the API and a restart with a fixed token still knows to say "resumed".
CREATE TABLE channel_pauses (
    channel         TEXT PRIMARY KEY CHECK (channel IN ('webhook', 'email', 'whatsapp', 'telegram')),
    reason          TEXT NOT NULL,
    since           TEXT NOT NULL,
    last_failure_at TEXT NOT NULL
);

-- The admin's alerts, an outbox of their own: one row per pause and one per
-- resume, written in the same transaction as the pause's row, sent to the
-- operator's `[delivery.alerts]` targets and retried until they are taken.
CREATE TABLE admin_alerts (
    id              TEXT PRIMARY KEY,
    event           TEXT NOT NULL CHECK (event IN ('channel.paused', 'channel.resumed')),
    channel         TEXT NOT NULL,
    reason          TEXT,
    occurred_at     TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    sent_at         TEXT
);
CREATE INDEX admin_alerts_due ON admin_alerts (state, next_attempt_at);
