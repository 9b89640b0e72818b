-- Credentials that can be rotated and revoked (issue 8).
--
-- A buyer's key or a craftsman's token is revoked by replacing its hash with
-- `revoked:<random id>`: no SHA-256 hex of any secret can equal it, the column
-- stays NOT NULL UNIQUE (SQLite cannot relax a column in place), and a rotation
-- writes a real hash again.

-- The inbox page's sign-ins: the cookie holds a random session id, and only its
-- hash is kept here, so the craftsman's token never travels in a cookie. A session
-- is refused once it expires, once it is ended (logout), and once the craftsman's
-- token is rotated or revoked (which ends all of theirs).
CREATE TABLE inbox_sessions (
    id_hash      TEXT PRIMARY KEY,          -- hex SHA-256 of the cookie's session id
    craftsman_id TEXT NOT NULL REFERENCES craftsmen (id),
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    ended_at     TEXT                       -- set at logout or when the token changes
);
CREATE INDEX inbox_sessions_craftsman ON inbox_sessions (craftsman_id) WHERE ended_at IS NULL;
