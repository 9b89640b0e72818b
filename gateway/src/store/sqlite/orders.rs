//! Reading orders; they are written with their message's outcome (`messages::complete`)
//! and routed by `deliveries::route`.

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::codec::{OrderRow, time_text};
use super::{buyer_filter, page_limit, page_query, split_page, status_condition};
use crate::store::{
    OrderPage, OrderQuery, OrderRecord, OrderScope, OrderStatus, ResponseFilter, StoreResult,
};

pub(super) fn get(
    conn: &Connection,
    scope: OrderScope<'_>,
    id: &str,
) -> StoreResult<Option<OrderRecord>> {
    let (buyer_id, craftsman_id) = match scope {
        OrderScope::All => (None, None),
        OrderScope::Buyer(buyer) => (Some(buyer), None),
        OrderScope::Craftsman(craftsman) => (None, Some(craftsman)),
    };
    let row = conn
        .prepare_cached(concat!(
            "SELECT ",
            order_columns!(),
            " FROM orders WHERE id = ?1 AND (?2 IS NULL OR buyer_id = ?2) \
             AND (?3 IS NULL OR craftsman_id = ?3)"
        ))?
        .query_row(params![id, buyer_id, craftsman_id], OrderRow::from_row)
        .optional()?;
    row.map(OrderRecord::try_from).transpose()
}

pub(super) fn list(conn: &Connection, query: OrderQuery) -> StoreResult<OrderPage> {
    let limit = page_limit(query.limit);
    let (sql, params) = list_query(query, limit);
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(params), OrderRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let orders = rows
        .into_iter()
        .map(OrderRecord::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let (orders, next_cursor) = split_page(orders, limit, |order| &order.id);
    Ok(OrderPage {
        orders,
        next_cursor,
    })
}

/// The statement of a page of [`list`] and its parameters.
pub(super) fn list_query(query: OrderQuery, limit: u32) -> (String, Vec<rusqlite::types::Value>) {
    page_query(
        concat!("SELECT ", order_columns!(), " FROM orders"),
        "id",
        query
            .status
            .map(|status| status_condition("status", status.as_str())),
        [
            (
                buyer_filter(query.status.is_some_and(uncommon)),
                query.buyer_id,
            ),
            ("craftsman_id", query.craftsman_id),
            // A filter compares with a text parameter: an unanswered order's NULL
            // is compared as `none`.
            (
                "coalesce(response, 'none')",
                query.response.map(|filter| match filter {
                    ResponseFilter::Awaiting => "none".to_owned(),
                    ResponseFilter::Latest(status) => status.as_str().to_owned(),
                }),
            ),
            // Past the wait for an answer: routed by then, and still unanswered.
            (
                "response IS NULL AND routed_at <= ?",
                query.awaiting_response_since.map(time_text),
            ),
        ],
        query.after,
        limit,
    )
}

/// Whether orders in `status` are few and have a partial index of their own
/// (`orders_unrouted_id`, `orders_received`, `orders_failed`); most orders end
/// `delivered`.
fn uncommon(status: OrderStatus) -> bool {
    match status {
        OrderStatus::Unrouted | OrderStatus::Received | OrderStatus::Failed => true,
        OrderStatus::Delivered => false,
    }
}
