-- The worker's claim and its next-due query (issue 12) look for pending
-- deliveries that are due and not claimed, oldest first. With the index on
-- `next_attempt_at` alone, SQLite's planner preferred `deliveries_state_id`
-- (state = 'pending'), read every pending delivery and sorted them for each
-- claim: under a backlog of routed orders the claim was a sixth of the
-- gateway's CPU, and delivery fell ever further behind. Led by `state` and
-- holding `claimed_until` and `id`, this index answers both queries by itself,
-- in order, skipping deliveries in flight without reading their rows.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at, claimed_until, id)
    WHERE state = 'pending';
