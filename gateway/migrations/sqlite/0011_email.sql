-- Orders by e-mail (issue 9).
--
-- A buyer's e-mail settings: the hash of the secret in its inbound address
-- (`orders+TOKEN@domain`; the token itself is shown once, when it is made, like an
-- API key), the senders it accepts (a JSON list of addresses and domains; empty:
-- any sender) and the language its senders are answered in.
CREATE TABLE buyer_email (
    buyer_id           TEXT PRIMARY KEY REFERENCES buyers (id),
    address_token_hash TEXT UNIQUE,
    senders            TEXT NOT NULL DEFAULT '[]',
    language           TEXT NOT NULL DEFAULT 'id'
);

-- At most one reply per message: the row is written before the reply is sent, so a
-- restart never sends it twice (a reply cut off by a crash is not sent again).
CREATE TABLE email_replies (
    message_id  TEXT PRIMARY KEY REFERENCES messages (id),
    recipient   TEXT NOT NULL,
    state       TEXT NOT NULL,              -- sending, sent, failed
    detail      TEXT,
    created_at  TEXT NOT NULL,
    finished_at TEXT
);
