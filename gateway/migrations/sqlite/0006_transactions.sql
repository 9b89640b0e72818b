-- One outcome per transaction of a message (issue 14): a message carrying several
-- transactions (X12 ST…SE, EDIFACT UNH…UNT, a JSON array) keeps what became of each,
-- so good orders are taken beside a bad sibling, and a refused transaction can be
-- replayed alone. A message stored before this migration has no rows here.
CREATE TABLE transactions (
    message_id     TEXT    NOT NULL REFERENCES messages (id),
    idx            INTEGER NOT NULL CHECK (idx >= 0),
    control_number TEXT,
    status         TEXT    NOT NULL CHECK (status IN ('ok', 'refused', 'not_an_order')),
    order_id       TEXT    REFERENCES orders (id),
    error          TEXT,                       -- JSON, when refused
    kind           TEXT,                       -- what a document that is not an order is
    reason         TEXT,
    warnings       TEXT    NOT NULL DEFAULT '[]', -- JSON list
    PRIMARY KEY (message_id, idx),
    CHECK ((status = 'ok') = (order_id IS NOT NULL)),
    CHECK ((status = 'refused') = (error IS NOT NULL))
) WITHOUT ROWID;

-- What the plugin read past in the message as a whole (its envelopes): a JSON list.
ALTER TABLE messages ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';
