//! The store's side of reminders (issue 10): an order that has no answer a while
//! after it reached its craftsman reminds them once. When is the caller's
//! (`crate::reminders`, from the config); the store decides each reminder exactly
//! once, in one transaction that marks the order and writes the reminder's
//! deliveries into the outbox, so a crash or restart neither loses nor repeats it.

use chrono::{DateTime, Utc};

use super::StoreResult;

/// Which orders a reminder is due for: routed (their wait began) after
/// `routed_after` and at or before `routed_by`, without an answer, never reminded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReminderWindow {
    /// Now, less the wait for an answer.
    pub routed_by: DateTime<Utc>,
    /// Older orders are not reminded any more: a reminder that late (an operator
    /// who turns reminders on, a gateway stopped for weeks) would remind of orders
    /// nobody waits for. They are still listed for the admin.
    pub routed_after: DateTime<Utc>,
}

/// A reminder [`ReminderStore::decide_reminders`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidedReminder {
    pub order_id: String,
    pub craftsman_id: String,
    /// Its deliveries, one per enabled channel of the craftsman (see
    /// [`super::routing::reminder_channels`]); none when they have only the inbox.
    pub deliveries: Vec<String>,
}

/// Reminders of unanswered orders. Every method is one atomic step.
#[async_trait::async_trait]
pub trait ReminderStore: Send + Sync {
    /// Decides the reminders due in `window`, oldest order first, at most `limit`:
    /// each order is marked reminded at `now` and gets a pending delivery of kind
    /// `reminder`, due at `now`, on each enabled channel of its craftsman; all in
    /// one transaction. An order answered or reminded before is never taken, so a
    /// second call decides nothing for it; the scan reads an index of the orders
    /// that may still need one, never every order.
    async fn decide_reminders(
        &self,
        window: ReminderWindow,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DecidedReminder>>;

    /// When the earliest order that may still need a reminder was routed, among
    /// those routed after `routed_after`; `None` when there is none. Its reminder is
    /// due the wait after that.
    async fn next_reminder_from(
        &self,
        routed_after: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>>;
}
