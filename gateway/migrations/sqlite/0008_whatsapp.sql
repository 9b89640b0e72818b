-- WhatsApp as Meta runs it (issue 13).
--
-- A WhatsApp user, by the number the Cloud API writes (`wa_id`, digits only): whether
-- an admin recorded their opt-in (Meta requires one before a business messages
-- them), and when they last wrote to the business number, which opens the 24-hour
-- customer-service window outside of which only template messages can be sent.
CREATE TABLE whatsapp_contacts (
    wa_id           TEXT PRIMARY KEY,
    opted_in_at     TEXT,
    opt_in_source   TEXT,                   -- how the consent was given, as the admin said
    last_inbound_at TEXT,
    updated_at      TEXT NOT NULL
) WITHOUT ROWID;

-- The id a channel's service gave the message an attempt sent (WhatsApp's wamid),
-- and what the service said of it afterwards (its status webhooks: `sent`,
-- `delivered`, `read`, `failed`), so a late `failed` can reopen the delivery.
ALTER TABLE delivery_attempts ADD COLUMN message_id TEXT;
ALTER TABLE delivery_attempts ADD COLUMN receipt TEXT
    CHECK (receipt IN ('sent', 'delivered', 'read', 'failed'));
ALTER TABLE delivery_attempts ADD COLUMN receipt_at TEXT;
CREATE INDEX delivery_attempts_message_id ON delivery_attempts (message_id)
    WHERE message_id IS NOT NULL;
