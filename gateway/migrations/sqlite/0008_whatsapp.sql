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

-- WhatsApp numbers stored as the admin API stores them from now on: digits with the
-- country code (`+62 812-3456-7890` and the Indonesian `0812-3456-7890` become
-- `6281234567890`), so the contacts above match them. A number with anything but
-- digits and `+` left is kept as it was; the channel refuses it at its next send.
UPDATE channels SET target = json_set(target, '$.to',
    CASE
        WHEN t.number LIKE '+%' THEN substr(t.number, 2)
        WHEN t.number LIKE '00%' THEN substr(t.number, 3)
        WHEN t.number LIKE '0%' THEN '62' || substr(t.number, 2)
        ELSE t.number
    END)
FROM (SELECT id AS channel_id,
             replace(replace(replace(replace(replace(json_extract(target, '$.to'),
                 ' ', ''), '-', ''), '(', ''), ')', ''), '.', '') AS number
      FROM channels WHERE kind = 'whatsapp') AS t
WHERE channels.id = t.channel_id AND t.number <> '' AND t.number NOT GLOB '*[^0-9+]*';
