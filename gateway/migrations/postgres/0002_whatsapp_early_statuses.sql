-- WhatsApp statuses that arrived before the attempt naming their message was
-- recorded (issue 13): migrations/sqlite/0017 in PostgreSQL's dialect, with the
-- values 0001_init.sql describes (times as RFC 3339 text, "C" collation).
--
-- One row per message: the status furthest along (a receipt never moves back).
-- `received_at` is when the gateway took it: retention deletes old ones, and the
-- gateway keeps a bounded number at once.
CREATE TABLE whatsapp_early_statuses (
    wamid        TEXT COLLATE "C" PRIMARY KEY,
    status       TEXT COLLATE "C" NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
    status_at    TEXT COLLATE "C" NOT NULL,
    recipient_id TEXT COLLATE "C" NOT NULL,
    error_code   BIGINT,
    error_text   TEXT COLLATE "C",
    received_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX whatsapp_early_statuses_received_at ON whatsapp_early_statuses (received_at);
