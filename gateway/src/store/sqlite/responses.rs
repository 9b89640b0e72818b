//! Craftsmen's responses to orders: each stored whole and kept, the order's answer
//! beside the order, and the delivery that carries it to the buyer's callback
//! written in the same transaction.

use jembatan_schemas::OrderResponse;
use rusqlite::{Connection, OptionalExtension, params};

use super::codec::{classify, json_text, now, parse_json, time_text};
use crate::model::{RenderOutcome, RenderedResponse};
use crate::secrets::new_id;
use crate::store::{NewResponse, RecordedResponse, StoreError, StoreResult};

pub(super) fn record(conn: &Connection, new: NewResponse) -> StoreResult<RecordedResponse> {
    let response = new.response;
    let now_text = time_text(now());
    let found: Option<(Option<String>, Option<i64>)> = conn
        .prepare_cached(
            "SELECT b.callback_url, (SELECT max(sequence) FROM order_responses r \
               WHERE r.order_id = o.id) \
             FROM orders o JOIN buyers b ON b.id = o.buyer_id WHERE o.id = ?1",
        )?
        .query_row(params![&response.order_id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    let Some((callback_url, latest)) = found else {
        return Err(StoreError::NotFound);
    };
    let next = latest.unwrap_or(0) + 1;
    if i64::from(response.sequence) != next {
        return Err(StoreError::Conflict(format!(
            "order {} has had {} responses; this one was made as response {}",
            response.order_id,
            next - 1,
            response.sequence
        )));
    }
    conn.prepare_cached(
        "INSERT INTO order_responses (id, order_id, sequence, status, body, event_key, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        &response.id,
        &response.order_id,
        i64::from(response.sequence),
        response.status.as_str(),
        json_text(&response)?,
        &new.event_key,
        &now_text,
    ])
    .map_err(|e| classify(&format!("response to order {}", response.order_id), e))?;
    conn.prepare_cached("UPDATE orders SET response = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![
            &response.order_id,
            response.status.as_str(),
            &now_text
        ])?;
    let callback_delivery = match callback_url {
        None => None,
        Some(_) => {
            let id = new_id("dlv");
            conn.prepare_cached(
                "INSERT INTO deliveries (id, order_id, kind, response_id, state, next_attempt_at, \
                 created_at, updated_at) VALUES (?1, ?2, 'response', ?3, 'pending', ?4, ?4, ?4)",
            )?
            .execute(params![&id, &response.order_id, &response.id, &now_text])?;
            Some(id)
        }
    };
    Ok(RecordedResponse {
        response,
        callback_delivery,
    })
}

pub(super) fn of_order(conn: &Connection, order_id: &str) -> StoreResult<Vec<OrderResponse>> {
    let bodies = conn
        .prepare_cached("SELECT body FROM order_responses WHERE order_id = ?1 ORDER BY sequence")?
        .query_map(params![order_id], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    bodies.iter().map(|body| parse_json(body)).collect()
}

pub(super) fn by_event(conn: &Connection, event_key: &str) -> StoreResult<Option<OrderResponse>> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM order_responses WHERE event_key = ?1")?
        .query_row(params![event_key], |row| row.get(0))
        .optional()?;
    body.as_deref().map(parse_json).transpose()
}

/// The largest control number: X12 ISA13 has nine digits. Reached only after a
/// billion documents for one buyer; then the sequence starts again at 1.
const MAX_CONTROL_NUMBER: i64 = 999_999_999;

pub(super) fn next_control_number(conn: &Connection, buyer_id: &str) -> StoreResult<u32> {
    let next: i64 = conn
        .prepare_cached(
            "INSERT INTO control_numbers (buyer_id, last) VALUES (?1, 1) \
             ON CONFLICT (buyer_id) DO UPDATE SET \
               last = CASE WHEN last >= ?2 THEN 1 ELSE last + 1 END \
             RETURNING last",
        )?
        .query_row(params![buyer_id, MAX_CONTROL_NUMBER], |row| row.get(0))
        .map_err(|e| classify(&format!("control number of buyer {buyer_id}"), e))?;
    u32::try_from(next).map_err(|_| StoreError::Invalid(format!("control number {next}")))
}

/// A `rendered_responses` row: plugin name and version, content type, body, error.
type RenderedRow = (
    String,
    String,
    Option<String>,
    Option<Vec<u8>>,
    Option<String>,
);

pub(super) fn rendered(
    conn: &Connection,
    response_id: &str,
) -> StoreResult<Option<RenderedResponse>> {
    let row: Option<RenderedRow> = conn
        .prepare_cached(
            "SELECT plugin_name, plugin_version, content_type, body, error \
             FROM rendered_responses WHERE response_id = ?1",
        )?
        .query_row(params![response_id], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })
        .optional()?;
    let Some((plugin_name, plugin_version, content_type, body, error)) = row else {
        return Ok(None);
    };
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

pub(super) fn keep_rendered(
    conn: &Connection,
    rendered: RenderedResponse,
) -> StoreResult<RenderedResponse> {
    let (content_type, body, error) = match &rendered.outcome {
        RenderOutcome::Rendered { content_type, body } => {
            (Some(content_type.as_str()), Some(body.as_slice()), None)
        }
        RenderOutcome::Failed { error } => (None, None, Some(error.as_str())),
    };
    conn.prepare_cached(
        "INSERT INTO rendered_responses (response_id, plugin_name, plugin_version, \
         content_type, body, error, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (response_id) DO NOTHING",
    )?
    .execute(params![
        &rendered.response_id,
        &rendered.plugin_name,
        &rendered.plugin_version,
        content_type,
        body,
        error,
        time_text(now()),
    ])
    .map_err(|e| classify(&format!("rendered response {}", rendered.response_id), e))?;
    self::rendered(conn, &rendered.response_id)?.ok_or(StoreError::NotFound)
}
