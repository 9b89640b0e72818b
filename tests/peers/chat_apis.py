#!/usr/bin/env python3
"""The chat platforms a craftsman is reached on, for the integration tests:
one HTTP server speaking the request shapes of the WhatsApp Cloud API and the
Telegram Bot API, so the gateway's adapters can be pointed at it by base URL.

    python3 tests/peers/chat_apis.py --whatsapp-token T --telegram-token T [--port N]
                                     [--record FILE]

Prints `listening on http://127.0.0.1:PORT` once ready.

    POST /{version}/{phone_number_id}/messages     WhatsApp, `Authorization:
         Bearer <whatsapp token>`, JSON text message only; answers 200 with a
         `wamid.<n>`, 401 (Graph code 190) on a wrong token, 400 (code 100)
         on a wrong shape
    POST /bot{token}/sendMessage                   Telegram, JSON or form:
         chat_id, text (1..4096 characters)
    POST /bot{token}/sendDocument                  Telegram, multipart:
         chat_id, a `document` file part, optional caption (<= 1024)
         Telegram answers {"ok":true,"result":{"message_id":n,...}}, 401 on a
         wrong token, 400 with a Bot-API description on a wrong request
    GET  /_received   every request so far, as a JSON list of
                      {api: "whatsapp"|"telegram"|"unknown", method, path (the
                       bot token shown as <redacted>), content_type, json
                       (JSON bodies), fields (the parameters, whatever the
                       encoding), document {filename, content_type, content,
                       content_encoding} or null, status}
    POST /_control    see peerlib.py; `{"fail_next": 1, "status": 429,
                      "retry_after": 2}` gives Telegram's
                      `parameters.retry_after` and WhatsApp's code 130429;
                      `{"unknown_recipients": ["6280404", "-100404"]}` makes
                      these WhatsApp numbers and Telegram chat ids unreachable,
                      answered as the platforms answer them: WhatsApp 400 with
                      Graph error 131030 (recipient not in the allowed list),
                      Telegram 400 "Bad Request: chat not found"

Lengths are counted in Python characters (code points), which is close
enough to both platforms' limits for tests.
"""

import argparse
import itertools
import json
import re
import time
from email import policy
from email.parser import BytesParser
from http import HTTPStatus
from urllib.parse import parse_qsl

from peerlib import Control, PeerHandler, Recorder, announce, http_server, text_or_base64

WHATSAPP_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)/messages$")
TELEGRAM_PATH = re.compile(r"^/bot([^/]+)/([A-Za-z]+)$")
MAX_TEXT = 4096
MAX_CAPTION = 1024
GRAPH_CODES = {400: 100, 401: 190, 429: 130429, 503: 2}


class BadRequest(Exception):
    """A request the platform would refuse; the message is its description."""


def graph_error(status, message):
    code = GRAPH_CODES.get(status, 1)
    return {"error": {"message": message, "type": "OAuthException", "code": code,
                      "fbtrace_id": "peer"}}


def unreachable_number_error():
    """What the Cloud API answers a send to a number it will not message
    (Meta's error code 131030, HTTP 400)."""
    return {"error": {"message": "(#131030) Recipient phone number not in allowed list",
                      "type": "OAuthException", "code": 131030,
                      "error_data": {"messaging_product": "whatsapp",
                                     "details": "Recipient phone number not in allowed list: "
                                                "Add recipient phone number to recipient list "
                                                "and try again."},
                      "fbtrace_id": "peer"}}


def telegram_error(status, description, retry_after=None):
    doc = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        doc["parameters"] = {"retry_after": retry_after}
    return doc


def parse_parameters(content_type, body):
    """(json, fields, files) of a JSON, form or multipart request body."""
    if content_type.startswith("application/json"):
        doc = json.loads(body or b"null")
        return doc, doc if isinstance(doc, dict) else {}, {}
    if content_type.startswith("application/x-www-form-urlencoded"):
        return None, dict(parse_qsl(body.decode("utf-8"))), {}
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = BytesParser(policy=policy.default).parsebytes(head + body)
        fields, files = {}, {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True) or b""
            if part.get_filename() is None:
                fields[name] = data.decode("utf-8")
            else:
                content, encoding = text_or_base64(data)
                files[name] = {"filename": part.get_filename(),
                               "content_type": part.get_content_type(),
                               "content": content, "content_encoding": encoding}
        return None, fields, files
    return None, {}, {}


def check_text(text, limit, what):
    if not isinstance(text, str) or not text.strip():
        raise BadRequest(f"{what} is empty")
    if len(text) > limit:
        raise BadRequest(f"{what} is too long")


class ChatHandler(PeerHandler):
    def control_extra(self, doc):
        if "unknown_recipients" in doc:
            self.server.unknown_recipients = {str(r) for r in doc["unknown_recipients"]}

    def deliver(self, path, body):
        content_type = self.headers.get("Content-Type", "")
        record = {"api": "unknown", "method": None, "path": path, "content_type": content_type,
                  "json": None, "fields": {}, "document": None, "status": None}
        try:
            record["json"], record["fields"], files = parse_parameters(content_type, body)
        except (ValueError, UnicodeDecodeError) as e:
            files, parse_error = {}, str(e)
        else:
            parse_error = None
        if (m := WHATSAPP_PATH.match(path)):
            record.update(api="whatsapp", method="messages")
            status, answer = self.whatsapp(record, parse_error)
        elif (m := TELEGRAM_PATH.match(path)):
            record.update(api="telegram", method=m.group(2),
                          path=f"/bot<redacted>/{m.group(2)}")
            record["document"] = files.get("document")
            status, answer = self.telegram(m.group(1), record, parse_error)
        else:
            status, answer = 404, {"error": f"no such API path {path}"}
        record["status"] = status
        self.server.recorder.add(record)
        self.send_json(status, answer)

    def log_message(self, format, *args):
        # The access log goes to the test's output: keep bot tokens out of it.
        super().log_message(format, *(re.sub(r"/bot[^/ ]+/", "/bot<redacted>/", str(a)) for a in args))

    def forced(self):
        """A forced failure's status and the Retry-After it advertises, or None."""
        status = self.server.control.forced_status()
        return status, (self.server.control.retry_after if status == 429 else None)

    def whatsapp(self, record, parse_error):
        status, _ = self.forced()
        if status:
            return status, graph_error(status, HTTPStatus(status).phrase)
        if self.headers.get("Authorization") != f"Bearer {self.server.whatsapp_token}":
            return 401, graph_error(401, "Invalid OAuth access token - Cannot parse access token")
        doc = record["json"]
        try:
            if parse_error or not isinstance(doc, dict):
                raise BadRequest(f"the body is not a JSON object {parse_error or ''}")
            if doc.get("messaging_product") != "whatsapp":
                raise BadRequest("messaging_product must be 'whatsapp'")
            if not isinstance(doc.get("to"), str) or not doc["to"]:
                raise BadRequest("to is required")
            if doc.get("type", "text") != "text":
                raise BadRequest(f"message type {doc.get('type')!r} is not supported here")
            check_text((doc.get("text") or {}).get("body"), MAX_TEXT, "text.body")
        except BadRequest as e:
            return 400, graph_error(400, f"(#100) Invalid parameter: {e}")
        if doc["to"] in self.server.unknown_recipients:
            return 400, unreachable_number_error()
        n = next(self.server.counter)
        return 200, {"messaging_product": "whatsapp",
                     "contacts": [{"input": doc["to"], "wa_id": doc["to"]}],
                     "messages": [{"id": f"wamid.{n}"}]}

    def telegram(self, token, record, parse_error):
        status, retry_after = self.forced()
        if status:
            description = HTTPStatus(status).phrase
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            elif status == 403:
                description = "Forbidden: bot was blocked by the user"
            return status, telegram_error(status, description, retry_after)
        if token != self.server.telegram_token:
            return 401, telegram_error(401, "Unauthorized")
        fields, method = record["fields"], record["method"]
        try:
            if parse_error:
                raise BadRequest(f"can't parse the request: {parse_error}")
            if method not in ("sendMessage", "sendDocument"):
                return 404, telegram_error(404, "Not Found")
            if fields.get("chat_id") in (None, ""):
                raise BadRequest("chat_id is empty")
            if str(fields["chat_id"]) in self.server.unknown_recipients:
                raise BadRequest("chat not found")
            result = {"message_id": next(self.server.counter), "date": int(time.time()),
                      "chat": {"id": fields["chat_id"], "type": "private"}}
            if method == "sendMessage":
                check_text(fields.get("text"), MAX_TEXT, "message text")
                result["text"] = fields["text"]
            else:
                document = record["document"]
                if document is None and not isinstance(fields.get("document"), str):
                    raise BadRequest("there is no document in the request")
                if "caption" in fields:
                    check_text(fields["caption"], MAX_CAPTION, "message caption")
                    result["caption"] = fields["caption"]
                result["document"] = {"file_id": f"doc{result['message_id']}",
                                      "file_name": (document or {}).get("filename")}
        except BadRequest as e:
            return 400, telegram_error(400, f"Bad Request: {e}")
        return 200, {"ok": True, "result": result}


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--whatsapp-token", required=True)
    args.add_argument("--telegram-token", required=True)
    args.add_argument("--port", type=int, default=0)
    args.add_argument("--record", help="also append each request to this JSON-lines file")
    opts = args.parse_args()

    server = http_server(ChatHandler, opts.port, Recorder(opts.record),
                         Control(normal={200}, default_fail_status=500))
    server.whatsapp_token = opts.whatsapp_token
    server.telegram_token = opts.telegram_token
    server.counter = itertools.count(1)
    server.unknown_recipients = set()
    announce(f"listening on http://127.0.0.1:{server.server_address[1]}")
    server.serve_forever()


if __name__ == "__main__":
    main()
