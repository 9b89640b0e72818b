//! The wit-bindgen glue, compiled only for wasm32. Not a public API: the
//! [`export_plugin!`](crate::export_plugin) macro is its only user.

pub use wit_bindgen;

/// The generated bindings of world `jembatan:plugin/plugin@0.4.0`.
///
/// Both worlds are generated here; with `pub_export_macro` each `generate!`
/// embeds only its world's imports (the same for both), and the world's exports
/// are embedded by its `export!` macro, so a plugin's component has the exports
/// of the one world its `export_plugin!` chose.
pub mod bindings {
    wit_bindgen::generate!({
        world: "plugin",
        path: "../../schemas/wit/v4",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "jembatan_plugin_sdk::__private::bindings",
    });
}

/// The generated bindings of world `jembatan:plugin/plugin-with-responses@0.4.0`,
/// sharing [`bindings`]' types.
pub mod responses {
    wit_bindgen::generate!({
        world: "plugin-with-responses",
        path: "../../schemas/wit/v4",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "jembatan_plugin_sdk::__private::responses",
        with: {
            "jembatan:plugin/types@0.4.0": crate::__private::bindings::jembatan::plugin::types,
        },
    });
}

pub use bindings::Guest;
pub use bindings::export;
pub use bindings::{
    Message as WitMessage, Normalized as WitNormalized, PluginError as WitError,
    PluginInfo as WitInfo,
};
pub use wit::{RenderedResponse as WitRendered, ResponseRequest as WitResponseRequest};

use crate::{
    Attachment, ControlNumbers, Email, Header, Location, LogLevel, Message, Normalized, Outcome,
    Plugin, PluginError, RenderResponse, ResponseRequest, Warning,
};
use bindings::jembatan::plugin::types as wit;

/// `info` of a plugin, in WIT types.
pub fn info<P: Plugin>() -> WitInfo {
    let info = P::info();
    WitInfo {
        name: info.name.to_owned(),
        version: info.version.to_owned(),
        description: info.description.to_owned(),
        content_types: info.content_types.iter().map(|&t| t.to_owned()).collect(),
    }
}

/// `normalize` of a plugin, in WIT types. The message is moved, not copied.
pub fn normalize<P: Plugin>(
    message: WitMessage,
    config: String,
) -> Result<WitNormalized, WitError> {
    P::normalize_json(&from_wit(message), &config)
        .map(normalized_to_wit)
        .map_err(to_wit)
}

/// `check-config` of a plugin, in WIT types.
pub fn check_config<P: Plugin>(config: String) -> Result<(), WitError> {
    P::check_config(&config).map_err(to_wit)
}

/// `render-response` of a plugin, in WIT types.
pub fn render_response<P: RenderResponse>(
    request: WitResponseRequest,
) -> Result<WitRendered, WitError> {
    let numbers = request.control_numbers;
    let request = ResponseRequest::from_json(
        &request.response,
        &request.order,
        from_wit(request.original),
        request.config,
        ControlNumbers {
            interchange: numbers.interchange,
            group: numbers.group,
            transaction: numbers.transaction,
        },
    )
    .map_err(to_wit)?;
    P::render_response(&request)
        .map(|rendered| WitRendered {
            content_type: rendered.content_type,
            body: rendered.body,
        })
        .map_err(to_wit)
}

/// Calls the host's `log` import.
pub fn log(level: LogLevel, message: &str) {
    let level = match level {
        LogLevel::Debug => wit::LogLevel::Debug,
        LogLevel::Info => wit::LogLevel::Info,
        LogLevel::Warn => wit::LogLevel::Warn,
        LogLevel::Error => wit::LogLevel::Error,
    };
    bindings::log(level, message);
}

fn from_wit(message: WitMessage) -> Message {
    Message {
        content_type: message.content_type,
        headers: message
            .headers
            .into_iter()
            .map(|h| Header {
                name: h.name,
                value: h.value,
            })
            .collect(),
        body: message.body,
        email: message.email.map(|e| Email {
            subject: e.subject,
            sender: e.sender,
            date: e.date,
            text: e.text,
            html: e.html,
            attachments: e
                .attachments
                .into_iter()
                .map(|a| Attachment {
                    filename: a.filename,
                    content_type: a.content_type,
                    body: a.body,
                })
                .collect(),
        }),
    }
}

fn normalized_to_wit(normalized: Normalized<String>) -> WitNormalized {
    WitNormalized {
        transactions: normalized
            .transactions
            .into_iter()
            .map(|t| wit::Transaction {
                id: wit::TransactionId {
                    index: t.id.index,
                    control_number: t.id.control_number,
                    location: t.id.location.map(location_to_wit),
                },
                outcome: match t.outcome {
                    Outcome::Order(json) => wit::Outcome::Order(json),
                    Outcome::Refused(error) => wit::Outcome::Refused(to_wit(error)),
                    Outcome::NotAnOrder { kind, reason } => {
                        wit::Outcome::NotAnOrder(wit::OtherDocument { kind, reason })
                    }
                },
                warnings: warnings_to_wit(t.warnings),
            })
            .collect(),
        warnings: warnings_to_wit(normalized.warnings),
    }
}

/// A warning's `path` is the WIT location's path; its `field` (a pointer into an
/// order) has no place outside an order.
fn warnings_to_wit(warnings: Vec<Warning>) -> Vec<wit::Warning> {
    warnings
        .into_iter()
        .map(|w| wit::Warning {
            code: w.code,
            message: w.message,
            location: w.path.map(|path| wit::Location {
                line: None,
                column: None,
                offset: None,
                path: Some(path),
            }),
        })
        .collect()
}

fn to_wit(error: PluginError) -> WitError {
    WitError {
        code: error.code,
        message: error.message,
        location: error.location.map(location_to_wit),
    }
}

fn location_to_wit(location: Location) -> wit::Location {
    wit::Location {
        line: location.line,
        column: location.column,
        offset: location.offset,
        path: location.path,
    }
}
