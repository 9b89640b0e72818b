-- WhatsApp statuses that arrived before the attempt naming their message was
-- recorded (issue 13). Meta promises no order between a send's answer, which
-- carries the `wamid`, and the status webhooks for it: a `failed` may come first.
-- It is kept here, not in memory, so a restart before the attempt is recorded
-- does not lose it; the delivery worker applies it when it records the attempt.
--
-- One row per message: the status furthest along (a receipt never moves back).
-- `received_at` is when the gateway took it: retention deletes old ones, and the
-- gateway keeps a bounded number at once.
CREATE TABLE whatsapp_early_statuses (
    wamid        TEXT PRIMARY KEY,
    status       TEXT NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
    status_at    TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    error_code   INTEGER,
    error_text   TEXT,
    received_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX whatsapp_early_statuses_received_at ON whatsapp_early_statuses (received_at);
