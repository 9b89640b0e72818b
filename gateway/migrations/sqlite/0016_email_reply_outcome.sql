-- Which outcome the one reply to an e-mailed message described (issue 9). A
-- message is answered once, at its first outcome; a replay may change that
-- outcome, and the sender is not written to again, so the admin sees here that
-- the reply told the earlier one: the message's `attempts` and `status` when the
-- reply was claimed. NULL for replies claimed before this migration.
ALTER TABLE email_replies ADD COLUMN attempt INTEGER;
ALTER TABLE email_replies ADD COLUMN outcome TEXT;
