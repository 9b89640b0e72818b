//! The column lists the engines' queries read, the same on every engine (the
//! schemas are table for table the same): macros so that `concat!` can build
//! `&'static str` queries, each one a statement prepared once per connection and
//! cached by its text, and so that the row structs in `rows` stay in step. Declared
//! (`#[macro_use]`) before the engines so that their modules can use them.

macro_rules! buyer_columns {
    () => {
        "id, name, plugin, plugin_version, plugin_config, limits, callback_url, created_at"
    };
}
/// Every message column but the body (see `rows::MessageMetaRow`).
macro_rules! message_meta_columns {
    () => {
        "id, buyer_id, received_via, content_type, headers, body_sha256, idempotency_key, \
         status, error, response_status, response_body, attempts, plugin_name, \
         plugin_version, received_at, processed_at, warnings, body_purged_at"
    };
}
macro_rules! message_columns {
    () => {
        concat!(message_meta_columns!(), ", body")
    };
}
macro_rules! order_columns {
    () => {
        "id, message_id, buyer_id, buyer_order_number, supplier_code, craftsman_id, status, \
         response, routed_at, reminded_at, body, schema_version, created_at, updated_at"
    };
}
macro_rules! plugin_columns {
    () => {
        "sha256, name, version, description, content_types, size_bytes, uploaded_at"
    };
}

macro_rules! craftsman_columns {
    () => {
        "id, name, language, created_at"
    };
}
macro_rules! channel_columns {
    () => {
        "id, craftsman_id, target, disabled_at, disabled_reason, created_at"
    };
}
/// A delivery's columns, with its channel's kind (`callback` for a response to the
/// buyer, `store::CALLBACK_CHANNEL`) and the order's craftsman, from
/// [`delivery_tables!`].
macro_rules! delivery_columns {
    () => {
        "d.id, d.order_id, d.kind, o.craftsman_id, d.channel_id, d.response_id, \
         coalesce(c.kind, 'callback') AS channel, d.state, \
         d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, \
         d.updated_at, d.delivered_at"
    };
}
/// The tables [`delivery_columns!`] reads: a response's delivery has no channel.
macro_rules! delivery_tables {
    () => {
        "deliveries d LEFT JOIN channels c ON c.id = d.channel_id \
         JOIN orders o ON o.id = d.order_id"
    };
}
/// A kept WhatsApp status (see `rows::EarlyStatusRow`).
macro_rules! early_status_columns {
    () => {
        "wamid, status, status_at, recipient_id, error_code, error_text"
    };
}
