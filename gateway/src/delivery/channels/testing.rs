//! Shared by the delivery tests (the adapters', the renderings', the inbox
//! page's): a sample order, and a tiny loopback HTTP server that records what it
//! was sent and answers what each test tells it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Language, Outgoing};
use crate::store::{OrderRecord, OrderStatus};

/// Two lines (the first with a name, a description, codes, specs and a drawing),
/// totals, a note, a delivery address and date.
pub(crate) fn sample_record() -> OrderRecord {
    let order = serde_json::from_value(serde_json::json!({
        "version": "2",
        "buyer_order_number": "PO-2026/0042",
        "issue_date": "2026-11-20",
        "currency": "IDR",
        "source": { "format": "ubl-order", "syntax": "UBL 2.1" },
        "buyer": {
            "name": "PT Mitra Otoparts",
            "ids": [{ "scheme": "UNSPECIFIED", "value": "MITRA" }],
            "contacts": [{ "name": "Sari", "phone": "+62 21 555 0101" }],
            "source": "document"
        },
        "supplier": { "code": "RTN-07", "name": "Rotan Budi" },
        "delivery": {
            "requested_date": "2026-12-05",
            "location": {
                "address": {
                    "street": "Jl. Raya Bogor No. 12",
                    "city": "Jakarta Timur",
                    "postal_code": "13750",
                    "country": "ID"
                }
            }
        },
        "lines": [
            {
                "line_number": "1",
                "item": {
                    "name": "Kursi rotan",
                    "description": "Kursi teras anyaman tangan",
                    "ids": [
                        { "role": "buyer", "value": "KR-01" },
                        { "role": "supplier", "value": "R-100" }
                    ],
                    "properties": [
                        { "name": "Bahan", "value": "rotan manau" },
                        { "name": "Tinggi", "value": "90", "unit": "CMT" }
                    ],
                    "documents": [{ "id": "GB-KR-01", "type": "drawing", "revision": "B" }]
                },
                "quantity": "10",
                "unit": "H87",
                "price": { "amount": "185000.00", "base_quantity": "1" },
                "line_total": "1850000.00"
            },
            {
                "line_number": "2",
                "item": { "description": "Rotan mentah" },
                "quantity": "2.5",
                "unit": "KGM",
                "price": { "amount": "40000.00", "base_quantity": "1" },
                "line_total": "100000.00",
                "delivery": { "requested_date": "2026-12-01" },
                "notes": [{ "text": "kering" }]
            }
        ],
        "notes": [{ "text": "Mohon dikemas rapi" }],
        "totals": {
            "line_extension": "1950000.00",
            "tax_total": "214500.00",
            "payable": "2164500.00"
        }
    }))
    .expect("the sample order is canonical v2");
    let created_at: DateTime<Utc> = "2026-11-20T03:04:05.123456Z".parse().unwrap();
    OrderRecord {
        id: "ord_0001".into(),
        message_id: "msg_0001".into(),
        buyer_id: "byr_mitra".into(),
        buyer_order_number: "PO-2026/0042".into(),
        supplier_code: "RTN-07".into(),
        craftsman_id: Some("crf_budi".into()),
        status: OrderStatus::Received,
        response: None,
        routed_at: Some(created_at),
        reminded_at: None,
        order,
        created_at,
        updated_at: created_at,
    }
}

/// The first attempt of delivery `dlv_0001` of `record` to Pak Budi.
pub(crate) fn outgoing(record: &OrderRecord, language: Language) -> Outgoing<'_> {
    Outgoing {
        delivery_id: "dlv_0001",
        attempt: 1,
        order: record,
        buyer_name: "PT Mitra Otoparts",
        craftsman_name: "Pak Budi",
        language,
        delivered_before: &[],
        response: None,
        rendered: None,
        reminder: false,
    }
}

/// One request the test server received.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// What the test server answers.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    /// Wait this long before answering (to make the client time out).
    pub delay: Duration,
}

impl Reply {
    pub(crate) fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    pub(crate) fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "text/plain".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// An HTTP/1.1 server on 127.0.0.1, port 0, one connection at a time, closing
/// each after its answer. Stops when dropped.
pub(crate) struct TestServer {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl TestServer {
    pub(crate) fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let address = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (recorded, stopped) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let Some(request) = read_request(&mut stream) else {
                    continue;
                };
                let reply = handler(&request);
                recorded.lock().unwrap().push(request);
                std::thread::sleep(reply.delay);
                let _ = write_reply(&mut stream, &reply);
            }
        });
        Self {
            address,
            requests,
            stop,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub(crate) fn port(&self) -> u16 {
        self.address.port()
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.address);
    }
}

/// A loopback URL where nothing listens.
pub(crate) fn closed_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn write_reply(stream: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} Test\r\ncontent-length: {}\r\nconnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(reply.body.as_bytes())?;
    stream.flush()
}
