//! Reading orders; they are written with their message's outcome (`messages::complete`).

use sqlx::{QueryBuilder, Sqlite};

use super::codec::OrderRow;
use super::{SqliteStore, page_limit, push_page_filters, split_page};
use crate::store::{OrderPage, OrderQuery, OrderRecord, StoreResult};

pub(super) async fn get(
    store: &SqliteStore,
    buyer_id: Option<&str>,
    id: &str,
) -> StoreResult<Option<OrderRecord>> {
    let row: Option<OrderRow> = sqlx::query_as(concat!(
        "SELECT ",
        order_columns!(),
        " FROM orders WHERE id = ?1 AND (?2 IS NULL OR buyer_id = ?2)"
    ))
    .bind(id)
    .bind(buyer_id)
    .fetch_optional(&store.reader)
    .await?;
    Ok(row.map(OrderRecord::try_from).transpose()?)
}

pub(super) async fn list(store: &SqliteStore, query: OrderQuery) -> StoreResult<OrderPage> {
    let limit = page_limit(query.limit);
    let mut sql = QueryBuilder::<Sqlite>::new(concat!("SELECT ", order_columns!(), " FROM orders"));
    push_page_filters(
        &mut sql,
        query.buyer_id,
        query.status.map(|s| s.as_str()),
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
