//! Craftsmen's responses to orders: each stored whole and kept, the order's answer
//! beside the order, and the delivery that carries it to the buyer's callback
//! written in the same transaction.

use jembatan_schemas::OrderResponse;

use super::codec::{classify, json_text, now, parse_json, time_text};
use super::{Db, rows};
use crate::model::{RenderOutcome, RenderedResponse};
use crate::secrets::new_id;
use crate::store::{NewResponse, RecordedResponse, StoreError, StoreResult};

pub(super) async fn record(db: &dyn Db, new: NewResponse) -> StoreResult<RecordedResponse> {
    let response = new.response;
    let now_text = time_text(now());
    let found = db
        .query_opt(
            "SELECT b.callback_url, (SELECT max(sequence) FROM order_responses r \
               WHERE r.order_id = o.id) \
             FROM orders o JOIN buyers b ON b.id = o.buyer_id WHERE o.id = $1",
            &[&response.order_id],
        )
        .await?;
    let Some(found) = found else {
        return Err(StoreError::NotFound);
    };
    let (callback_url, latest): (Option<String>, Option<i64>) =
        (found.try_get(0)?, found.try_get(1)?);
    let next = latest.unwrap_or(0) + 1;
    if i64::from(response.sequence) != next {
        return Err(StoreError::Conflict(format!(
            "order {} has had {} responses; this one was made as response {}",
            response.order_id,
            next - 1,
            response.sequence
        )));
    }
    db.execute(
        "INSERT INTO order_responses (id, order_id, sequence, status, body, event_key, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &response.id,
            &response.order_id,
            &i64::from(response.sequence),
            &response.status.as_str(),
            &json_text(&response)?,
            &new.event_key,
            &now_text,
        ],
    )
    .await
    .map_err(|e| classify(&format!("response to order {}", response.order_id), e))?;
    db.execute(
        "UPDATE orders SET response = $2, updated_at = $3 WHERE id = $1",
        &[&response.order_id, &response.status.as_str(), &now_text],
    )
    .await?;
    let callback_delivery = match callback_url {
        None => None,
        Some(_) => {
            let id = new_id("dlv");
            db.execute(
                "INSERT INTO deliveries (id, order_id, kind, response_id, state, next_attempt_at, \
                 created_at, updated_at) VALUES ($1, $2, 'response', $3, 'pending', $4, $4, $4)",
                &[&id, &response.order_id, &response.id, &now_text],
            )
            .await?;
            db.outbox_changed();
            Some(id)
        }
    };
    Ok(RecordedResponse {
        response,
        callback_delivery,
    })
}

pub(super) async fn of_order(db: &dyn Db, order_id: &str) -> StoreResult<Vec<OrderResponse>> {
    let found = db
        .query(
            "SELECT body FROM order_responses WHERE order_id = $1 ORDER BY sequence",
            &[&order_id],
        )
        .await?;
    rows(found, |row| row.try_get::<_, String>(0))?
        .iter()
        .map(|body| parse_json(body))
        .collect()
}

pub(super) async fn by_event(db: &dyn Db, event_key: &str) -> StoreResult<Option<OrderResponse>> {
    let body: Option<String> = db
        .query_opt(
            "SELECT body FROM order_responses WHERE event_key = $1",
            &[&event_key],
        )
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    body.as_deref().map(parse_json).transpose()
}

/// The largest control number: X12 ISA13 has nine digits. Reached only after a
/// billion documents for one buyer; then the sequence starts again at 1.
const MAX_CONTROL_NUMBER: i64 = 999_999_999;

pub(super) async fn next_control_number(db: &dyn Db, buyer_id: &str) -> StoreResult<u32> {
    let next: i64 = db
        .query_opt(
            "INSERT INTO control_numbers (buyer_id, last) VALUES ($1, 1) \
             ON CONFLICT (buyer_id) DO UPDATE SET \
               last = CASE WHEN control_numbers.last >= $2 THEN 1 \
                 ELSE control_numbers.last + 1 END \
             RETURNING last",
            &[&buyer_id, &MAX_CONTROL_NUMBER],
        )
        .await
        .map_err(|e| classify(&format!("control number of buyer {buyer_id}"), e))?
        .ok_or(StoreError::NotFound)?
        .try_get(0)?;
    u32::try_from(next).map_err(|_| StoreError::Invalid(format!("control number {next}")))
}

pub(super) async fn rendered(
    db: &dyn Db,
    response_id: &str,
) -> StoreResult<Option<RenderedResponse>> {
    let row = db
        .query_opt(
            "SELECT plugin_name, plugin_version, content_type, body, error \
             FROM rendered_responses WHERE response_id = $1",
            &[&response_id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (plugin_name, plugin_version, content_type, body, error): (
        String,
        String,
        Option<String>,
        Option<Vec<u8>>,
        Option<String>,
    ) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
    );
    let outcome = match (content_type, body, error) {
        (Some(content_type), Some(body), None) => RenderOutcome::Rendered { content_type, body },
        (None, None, Some(error)) => RenderOutcome::Failed { error },
        _ => {
            return Err(StoreError::Invalid(format!(
                "rendered response {response_id} has neither a document nor an error"
            )));
        }
    };
    Ok(Some(RenderedResponse {
        response_id: response_id.to_owned(),
        plugin_name,
        plugin_version,
        outcome,
    }))
}

pub(super) async fn keep_rendered(
    db: &dyn Db,
    rendered: RenderedResponse,
) -> StoreResult<RenderedResponse> {
    let (content_type, body, error) = match &rendered.outcome {
        RenderOutcome::Rendered { content_type, body } => {
            (Some(content_type.as_str()), Some(body.as_slice()), None)
        }
        RenderOutcome::Failed { error } => (None, None, Some(error.as_str())),
    };
    db.execute(
        "INSERT INTO rendered_responses (response_id, plugin_name, plugin_version, \
         content_type, body, error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (response_id) DO NOTHING",
        &[
            &rendered.response_id,
            &rendered.plugin_name,
            &rendered.plugin_version,
            &content_type,
            &body,
            &error,
            &time_text(now()),
        ],
    )
    .await
    .map_err(|e| classify(&format!("rendered response {}", rendered.response_id), e))?;
    self::rendered(db, &rendered.response_id)
        .await?
        .ok_or(StoreError::NotFound)
}
