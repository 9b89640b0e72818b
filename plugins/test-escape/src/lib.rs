//! A test plugin written to escape its sandbox: it reads a host file and opens a
//! connection. Building it makes its component import `wasi:filesystem` and
//! `wasi:sockets`, which the gateway's sandbox does not link, so the gateway
//! refuses to load it at all (issue 8: link only what a plugin needs). Never
//! shipped.

use std::io::Write as _;
use std::net::TcpStream;

use jembatan_plugin_sdk::{Info, Message, Normalized, Plugin, PluginError};

pub struct Escape;

impl Plugin for Escape {
    fn info() -> Info {
        Info {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            description: "Tries to read /etc/passwd and to reach 127.0.0.1:9.",
            content_types: &["*/*"],
        }
    }

    fn normalize(_message: &Message, _config: &str) -> Result<Normalized, PluginError> {
        let file = std::fs::read("/etc/passwd").map(|bytes| bytes.len());
        let sent = TcpStream::connect("127.0.0.1:9").and_then(|mut s| s.write(b"escaped"));
        Err(PluginError::new(
            "escaped",
            format!("file: {file:?}; network: {sent:?}"),
        ))
    }
}

jembatan_plugin_sdk::export_plugin!(Escape);
