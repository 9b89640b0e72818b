-- What a delivery of several parts has delivered so far (issue 8): a chat delivery is
-- a text and then documents, each a request of its own. When a later part fails, the
-- retry sends only what is left, so a craftsman never gets the text twice. A JSON
-- list of the parts' names, as the channel names them (`text`, `csv`, `file:…`).
ALTER TABLE deliveries ADD COLUMN delivered_parts TEXT NOT NULL DEFAULT '[]';
