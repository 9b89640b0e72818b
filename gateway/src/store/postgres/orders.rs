//! Reading orders; they are written with their message's outcome (`messages::complete`)
//! and routed by `deliveries::route`.

use super::codec::{OrderRow, time_text};
use super::{Db, fetch_count, page_limit, page_params, page_query, rows, split_page};
use crate::store::{OrderPage, OrderQuery, OrderRecord, OrderScope, ResponseFilter, StoreResult};

pub(super) async fn get(
    db: &dyn Db,
    scope: OrderScope<'_>,
    id: &str,
) -> StoreResult<Option<OrderRecord>> {
    let (buyer_id, craftsman_id) = match scope {
        OrderScope::All => (None, None),
        OrderScope::Buyer(buyer) => (Some(buyer), None),
        OrderScope::Craftsman(craftsman) => (None, Some(craftsman)),
    };
    let row = db
        .query_opt(
            concat!(
                "SELECT ",
                order_columns!(),
                " FROM orders WHERE id = $1 AND ($2::text IS NULL OR buyer_id = $2) \
                 AND ($3::text IS NULL OR craftsman_id = $3)"
            ),
            &[&id, &buyer_id, &craftsman_id],
        )
        .await?;
    row.as_ref()
        .map(OrderRow::from_pg)
        .transpose()?
        .map(OrderRecord::try_from)
        .transpose()
}

pub(super) async fn list(db: &dyn Db, query: OrderQuery) -> StoreResult<OrderPage> {
    let limit = page_limit(query.limit);
    let (sql, params) = page_query(
        concat!("SELECT ", order_columns!(), " FROM orders"),
        "id",
        [
            ("buyer_id", query.buyer_id),
            ("craftsman_id", query.craftsman_id),
            ("status", query.status.map(|s| s.as_str().to_owned())),
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
    );
    let fetch = fetch_count(limit);
    let found = db.query(&sql, &page_params(&params, &fetch)).await?;
    let orders = rows(found, OrderRow::from_pg)?
        .into_iter()
        .map(OrderRecord::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let (orders, next_cursor) = split_page(orders, limit, |order| &order.id);
    Ok(OrderPage {
        orders,
        next_cursor,
    })
}
