-- Answers from the chat channels (issue 10, part 2): a craftsman taps "reject" in
-- WhatsApp or Telegram and the gateway asks for the reason in the chat. The
-- question waits here until their next text in that chat, or until it expires
-- (`[chat_answers] reason_wait`), so that a restart neither loses it nor asks again.
-- `event_key` names the tap that asked it; the rejection it becomes is stored with
-- the same key, so a question answered twice (a crash between the two steps)
-- makes one rejection.
CREATE TABLE chat_reason_questions (
    id           TEXT PRIMARY KEY,
    chat_kind    TEXT NOT NULL CHECK (chat_kind IN ('whatsapp', 'telegram')),
    chat_id      TEXT NOT NULL,
    order_id     TEXT NOT NULL REFERENCES orders (id),
    craftsman_id TEXT NOT NULL REFERENCES craftsmen (id),
    event_key    TEXT NOT NULL UNIQUE,
    asked_at     TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX chat_reason_questions_chat ON chat_reason_questions (chat_kind, chat_id, asked_at);
CREATE INDEX chat_reason_questions_expiry ON chat_reason_questions (expires_at);

-- The Telegram updates already taken, by `update_id`: a replayed update (the same
-- id again, whenever it comes) changes nothing. Telegram keeps an undelivered update
-- for at most 24 hours, so ids older than two days are forgotten.
CREATE TABLE telegram_updates (
    update_id INTEGER PRIMARY KEY,
    seen_at   TEXT NOT NULL
);
CREATE INDEX telegram_updates_seen ON telegram_updates (seen_at);
