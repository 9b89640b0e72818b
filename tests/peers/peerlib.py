"""What the loopback peers share: the record of what arrived, the run-time
failure switch, and the tiny HTTP plumbing (`GET /_received`, `POST /_control`,
the ready line).

Not a peer itself; `webhook_receiver.py`, `smtp_sink.py` and `chat_apis.py`
import it from their own directory.

The control document, the same for every peer (`POST /_control`, JSON):

    {"status": 500}                   answer 500 to every delivery from now on
                                      (the peer's normal answer, e.g. 200, 204
                                      or 250, switches back to normal)
    {"fail_next": 2, "status": 503}   answer 503 to the next 2 deliveries, then
                                      normal again (status defaults per peer)
    {"retry_after": 3}                seconds advertised by a 429 (chat APIs)
    {"delay_ms": 1500}                wait this long before every answer
    {"clear": true}                   forget what was received

Keys combine; the answer is `{"ok": true}`. Failed deliveries are recorded
too, with the status they were answered.

`GET /_stats` counts deliveries as they arrive, before any delay or answer:
`{"arrived": N, "in_flight": N, "max_in_flight": N}`. A delivery is recorded
only once it is answered, so these tell a test that one is in flight (say, to
kill the gateway while it holds the claim) and how many ran at once.
"""

import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Recorder:
    """Thread-safe list of JSON records, optionally mirrored to a JSON-lines file."""

    def __init__(self, path=None):
        self._lock = threading.Lock()
        self._items = []
        self._file = open(path, "a", encoding="utf-8") if path else None

    def add(self, record):
        with self._lock:
            self._items.append(record)
            if self._file:
                self._file.write(json.dumps(record) + "\n")
                self._file.flush()

    def all(self):
        with self._lock:
            return list(self._items)

    def clear(self):
        with self._lock:
            self._items.clear()


class Control:
    """The run-time switch deciding whether the next delivery fails, and how."""

    def __init__(self, normal, default_fail_status):
        self.normal = normal
        self.default_fail_status = default_fail_status
        self._lock = threading.Lock()
        self._status = None  # a standing override of every answer
        self._fail_next = 0
        self._fail_status = default_fail_status
        self.retry_after = 1
        self.delay_ms = 0

    def apply(self, doc, recorder):
        with self._lock:
            if "fail_next" in doc:
                self._fail_next = int(doc["fail_next"])
                self._fail_status = int(doc.get("status", self.default_fail_status))
            elif "status" in doc:
                status = int(doc["status"])
                self._status = None if status in self.normal else status
            if "retry_after" in doc:
                self.retry_after = int(doc["retry_after"])
            if "delay_ms" in doc:
                self.delay_ms = int(doc["delay_ms"])
        if doc.get("clear"):
            recorder.clear()

    def forced_status(self):
        """The status to answer instead of handling the delivery, or None.

        Consumes one of `fail_next`; sleeps `delay_ms` first, so a slow peer is
        slow whatever it answers."""
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000)
        with self._lock:
            if self._fail_next > 0:
                self._fail_next -= 1
                return self._fail_status
            return self._status


class Stats:
    """Deliveries that arrived, and how many were being handled at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self.arrived = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def enter(self):
        with self._lock:
            self.arrived += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self):
        with self._lock:
            self.in_flight -= 1

    def snapshot(self):
        with self._lock:
            return {"arrived": self.arrived, "in_flight": self.in_flight,
                    "max_in_flight": self.max_in_flight}


class PeerHandler(BaseHTTPRequestHandler):
    """Serves `/_received` and `/_control`; every other POST goes to `deliver`.

    Subclasses implement `deliver(path, body) -> None`, answering with
    `send_json`, and may take more control keys in `control_extra(doc)`, which
    may return a dict to add to the control answer. The server carries
    `recorder` and `control`."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/_received":
            self.send_json(200, self.server.recorder.all())
        elif self.path == "/_stats":
            self.send_json(200, self.server.stats.snapshot())
        else:
            self.send_json(404, {"error": f"no such path {self.path}"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/_control":
            try:
                doc = json.loads(body or b"{}")
                self.server.control.apply(doc, self.server.recorder)
                extra = self.control_extra(doc) or {}
            except (ValueError, TypeError, KeyError) as e:
                self.send_json(400, {"error": f"bad control document: {e}"})
                return
            self.send_json(200, {"ok": True, **extra})
        else:
            self.server.stats.enter()
            try:
                self.deliver(self.path, body)
            finally:
                self.server.stats.leave()

    def control_extra(self, doc):
        pass

    def send_json(self, status, doc, headers=()):
        self.send_bytes(status, json.dumps(doc).encode(), "application/json", headers)

    def send_bytes(self, status, data, content_type, headers=()):
        self.send_response(status)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def log_message(self, format, *args):
        # One short line per request; the Rust handle prefixes the peer's name.
        sys.stderr.write(f"{format % args}\n")


def http_server(handler_cls, port, recorder, control):
    """Binds the HTTP server on loopback (port 0 picks a free one)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_cls)
    server.daemon_threads = True
    server.recorder = recorder
    server.control = control
    server.stats = Stats()
    return server


def announce(line):
    """Prints the ready line the Rust handles wait for."""
    print(line, flush=True)


def parse_json_or_text(body):
    """The body as JSON when it is JSON, else as text (bytes undecodable as
    UTF-8 are replaced, so a record is always JSON)."""
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def text_or_base64(data):
    """(content, encoding): bytes as UTF-8 text when they are, else as base64."""
    try:
        return data.decode("utf-8"), "text"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode(), "base64"
