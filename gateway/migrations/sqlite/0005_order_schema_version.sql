-- Canonical order v2 (issue 14). Stored orders keep their bytes: a row written
-- before this migration holds a v1 order and is upgraded when it is read, so what
-- a craftsman was sent is never rewritten. New rows hold v2 and say so here.
ALTER TABLE orders ADD COLUMN schema_version INTEGER NOT NULL DEFAULT 1;
