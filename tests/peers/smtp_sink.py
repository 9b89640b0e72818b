#!/usr/bin/env python3
"""A craftsman's mail server, for the integration tests.

An aiosmtpd server on loopback that accepts every message, parses it with
Python's own `email` package (policy=default) and records it. A second, HTTP
port shows the records and switches failures.

    python3 tests/peers/smtp_sink.py [--port N] [--username U --password P]
                                     [--tls starttls|implicit --cert PEM --key PEM]
                                     [--fail-next N] [--record FILE]

Prints `listening on smtp://127.0.0.1:PORT control http://127.0.0.1:CPORT`
once ready. With `--username/--password`, AUTH PLAIN and LOGIN are offered
and required before MAIL; without them no AUTH is offered.

Without `--tls` the server speaks plain text (AUTH then too, loopback only).
`--tls starttls` offers STARTTLS and requires it: anything but EHLO, NOOP,
QUIT and STARTTLS is answered 530 until the session is encrypted, and AUTH is
offered only after it. `--tls implicit` speaks TLS from the first byte
(SMTPS). Either way the server presents `--cert` (a PEM chain) and `--key`.

    GET  /_received   every message so far (control port), as a JSON list of
                      {mail_from, rcpt_tos, auth_user, status, tls,
                       message_id, subject, from, to, headers, text, html,
                       attachments: [{filename, content_type, content,
                                      content_encoding}]}
                      `text` and `html` have their line ends as "\n"; an
                      attachment's `content` is its exact decoded text, or
                      base64 when it is not UTF-8 (`content_encoding` says);
                      `tls` is null for a message that came in plain text,
                      else {version, cipher, starttls}, read from the
                      connection's own TLS state (`starttls` false for SMTPS)
    POST /_control    see peerlib.py: `{"fail_next": 2}` answers the next 2
                      messages 451 (transient) after their DATA, `{"status":
                      550}` rejects every message, `{"status": 250}` heals;
                      `{"stall": "greeting"}` accepts connections and never
                      says a word (what a client using STARTTLS meets on an
                      implicit-TLS port, lettre issue #1027), `{"stall":
                      "data"}` takes the message and never answers its final
                      dot, `{"stall": null}` heals. A message stalled after
                      DATA is recorded with `"stalled": true`; `stalled`
                      in `GET /_stalls` counts the connections held silent.

A rejected message is still recorded, with the status it was answered;
`--fail-next N` is the same as `{"fail_next": N}` from the start.
"""

import argparse
import asyncio
import logging
import socket
import ssl
import threading
import warnings
from email import policy
from email.parser import BytesParser

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from peerlib import Control, PeerHandler, Recorder, announce, http_server, text_or_base64

REPLIES = {451: "451 4.3.0 Try again later", 550: "550 5.7.1 Message rejected"}


class Sink:
    """The aiosmtpd handler: parse, record, answer."""

    def __init__(self, recorder, control):
        self.recorder = recorder
        self.control = control

    async def handle_DATA(self, server, session, envelope):
        if self.control.stall == "data":
            self.recorder.add({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                               "status": None, "stalled": True})
            # RFC 5321 gives the client 10 minutes for the reply to the final
            # dot; a stalled server never gives it (docs/services.md S3, S6).
            await asyncio.sleep(3600)
        status = await asyncio.to_thread(self.control.forced_status) or 250
        try:
            record = parse_message(envelope.original_content or envelope.content)
        except Exception as e:  # a malformed message is a finding, not a crash
            record = {"parse_error": f"{type(e).__name__}: {e}"}
        auth = session.auth_data
        self.recorder.add({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth_user": auth.login.decode() if isinstance(auth, LoginPassword) else None,
            "status": status,
            "tls": tls_state(server, session),
            **record,
        })
        return REPLIES.get(status, f"{status} {'OK' if status < 400 else 'Rejected'}")


def tls_state(server, session):
    """How the message's connection was encrypted, or None for plain text.

    Asked of the transport the message arrived on, so it is what happened on
    the wire, not what was negotiated in words. aiosmtpd sets `session.ssl`
    only after STARTTLS, which tells the two kinds of TLS apart."""
    transport = server.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport else None
    if ssl_object is None:
        return None
    return {"version": ssl_object.version(), "cipher": ssl_object.cipher()[0],
            "starttls": session.ssl is not None}


def parse_message(raw):
    msg = BytesParser(policy=policy.default).parsebytes(raw)

    def body(kind):
        # Line ends as a mail client shows them, not as the wire carried them.
        part = msg.get_body(preferencelist=(kind,))
        return part.get_content().replace("\r\n", "\n") if part is not None else None

    return {
        "message_id": msg["Message-ID"],
        "subject": msg["Subject"],
        "from": msg["From"],
        "to": msg["To"],
        "headers": [[k, str(v)] for k, v in msg.items()],
        "text": body("plain"),
        "html": body("html"),
        "attachments": [attachment(p) for p in msg.iter_attachments()],
    }


def attachment(part):
    content, encoding = part.get_content(), "text"
    if isinstance(content, bytes):
        content, encoding = text_or_base64(content)
    elif not isinstance(content, str):  # message/rfc822 and the like
        content = str(content)
    return {"filename": part.get_filename(), "content_type": part.get_content_type(),
            "content": content, "content_encoding": encoding}


class ControlHandler(PeerHandler):
    def deliver(self, path, body):
        self.send_json(404, {"error": "deliveries go to the SMTP port"})

    def control_extra(self, doc):
        if "stall" in doc:
            if doc["stall"] not in (None, "greeting", "data"):
                raise ValueError(f"stall is greeting, data or null, not {doc['stall']!r}")
            self.server.control.stall = doc["stall"]

    def do_GET(self):
        if self.path == "/_stalls":
            self.send_json(200, {"stalled": self.server.control.stalled})
        else:
            super().do_GET()


class Silent(asyncio.Protocol):
    """A server that accepted the connection and never answers: no 220 greeting."""

    def __init__(self, control):
        control.stalled += 1


def authenticator(username, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == username
              and auth_data.password.decode() == password)
        # handled=False: aiosmtpd itself answers 235 or 535.
        return AuthResult(success=ok, handled=False, auth_data=auth_data)
    return check


def server_tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def serve_smtp(sock, sink, opts):
    options, implicit = {}, None
    if opts.tls == "starttls":
        options = dict(tls_context=server_tls_context(opts.cert, opts.key),
                       require_starttls=True)
    elif opts.tls == "implicit":
        implicit = server_tls_context(opts.cert, opts.key)
    if opts.username is not None:
        options.update(authenticator=authenticator(opts.username, opts.password or ""),
                       auth_required=True)
        # aiosmtpd offers AUTH only once STARTTLS is done unless told otherwise;
        # in plain text (loopback) and SMTPS (encrypted without STARTTLS) it must be.
        if opts.tls != "starttls":
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            options.update(auth_require_tls=False)
    # A fixed hostname: the default asks the resolver on every connection.
    def protocol():
        if sink.control.stall == "greeting":
            return Silent(sink.control)
        return SMTP(sink, hostname="smtp-sink.test", **options)

    server = await asyncio.get_running_loop().create_server(protocol, sock=sock, ssl=implicit)
    async with server:
        await server.serve_forever()


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--port", type=int, default=0)
    args.add_argument("--username")
    args.add_argument("--password")
    args.add_argument("--tls", choices=["starttls", "implicit"])
    args.add_argument("--cert", help="the server's certificate chain (PEM), with --tls")
    args.add_argument("--key", help="the certificate's private key (PEM), with --tls")
    args.add_argument("--fail-next", type=int, default=0)
    args.add_argument("--record", help="also append each message to this JSON-lines file")
    opts = args.parse_args()
    if opts.tls and not (opts.cert and opts.key):
        args.error("--tls needs --cert and --key")
    # aiosmtpd warns on every connection about AUTH without TLS, which is the point here.
    logging.getLogger("mail.log").setLevel(logging.ERROR)

    recorder = Recorder(opts.record)
    control = Control(normal={250}, default_fail_status=451)
    control.stall = None
    control.stalled = 0
    control.apply({"fail_next": opts.fail_next}, recorder)

    # Bound here, not by aiosmtpd's Controller, so port 0 works and is known.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", opts.port))
    sock.listen(64)

    control_server = http_server(ControlHandler, 0, recorder, control)
    threading.Thread(target=control_server.serve_forever, daemon=True).start()
    announce(f"listening on smtp://127.0.0.1:{sock.getsockname()[1]} "
             f"control http://127.0.0.1:{control_server.server_address[1]}")
    asyncio.run(serve_smtp(sock, Sink(recorder, control), opts))


if __name__ == "__main__":
    main()
