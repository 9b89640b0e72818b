-- Responses in the buyer's own format (issue 10, part 3): when the buyer's plugin
-- renders responses (`render-response`, jembatan:plugin@0.4.0), the document it
-- wrote (or why it could not) is kept with the response, written once, so that
-- every attempt and every replay of the `order.response` event carries the same
-- bytes. Exactly one of `body` and `error` is set.
CREATE TABLE rendered_responses (
    response_id    TEXT PRIMARY KEY REFERENCES order_responses (id),
    plugin_name    TEXT NOT NULL,
    plugin_version TEXT NOT NULL,
    content_type   TEXT,
    body           BLOB,
    error          TEXT,
    created_at     TEXT NOT NULL,
    CHECK ((body IS NULL) <> (error IS NULL)),
    CHECK ((body IS NULL) = (content_type IS NULL))
);

-- Control numbers for rendered documents (X12 ISA13, GS06 and ST02, EDIFACT UNB
-- 0020 and UNH 0062): a plugin keeps no state, so the gateway keeps one sequence
-- per buyer, and a number taken is never given again, even when the render that
-- took it fails.
CREATE TABLE control_numbers (
    buyer_id TEXT PRIMARY KEY REFERENCES buyers (id),
    last     INTEGER NOT NULL CHECK (last >= 1)
);
