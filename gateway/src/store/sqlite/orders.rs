//! Reading orders; they are written with their message's outcome (`messages::complete`)
//! and routed by `deliveries::route`.

use sqlx::{QueryBuilder, Sqlite};

use super::codec::OrderRow;
use super::{SqliteStore, page_limit, push_page_filters, split_page};
use crate::store::{OrderPage, OrderQuery, OrderRecord, OrderScope, StoreResult};

pub(super) async fn get(
    store: &SqliteStore,
    scope: OrderScope<'_>,
    id: &str,
) -> StoreResult<Option<OrderRecord>> {
    let (buyer_id, craftsman_id) = match scope {
        OrderScope::All => (None, None),
        OrderScope::Buyer(buyer) => (Some(buyer), None),
        OrderScope::Craftsman(craftsman) => (None, Some(craftsman)),
    };
    let row: Option<OrderRow> = sqlx::query_as(concat!(
        "SELECT ",
        order_columns!(),
        " FROM orders WHERE id = ?1 AND (?2 IS NULL OR buyer_id = ?2) \
         AND (?3 IS NULL OR craftsman_id = ?3)"
    ))
    .bind(id)
    .bind(buyer_id)
    .bind(craftsman_id)
    .fetch_optional(&store.reader)
    .await?;
    Ok(row.map(OrderRecord::try_from).transpose()?)
}

pub(super) async fn list(store: &SqliteStore, query: OrderQuery) -> StoreResult<OrderPage> {
    let limit = page_limit(query.limit);
    let mut sql = QueryBuilder::<Sqlite>::new(concat!("SELECT ", order_columns!(), " FROM orders"));
    push_page_filters(
        &mut sql,
        "id",
        [
            ("buyer_id", query.buyer_id),
            ("craftsman_id", query.craftsman_id),
            ("status", query.status.map(|s| s.as_str().to_owned())),
        ],
        query.after,
        limit,
    );
    let rows: Vec<OrderRow> = sql.build_query_as().fetch_all(&store.reader).await?;
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
