#!/usr/bin/env python3
"""The chat platforms a craftsman is reached on, for the integration tests:
one HTTP server speaking the request shapes of the WhatsApp Cloud API and the
Telegram Bot API, so the gateway's adapters can be pointed at it by base URL.

    python3 tests/peers/chat_apis.py --whatsapp-token T --telegram-token T [--port N]
                                     [--record FILE]

Prints `listening on http://127.0.0.1:PORT` once ready.

    POST /{version}/{phone_number_id}/messages     WhatsApp, `Authorization:
         Bearer <whatsapp token>`, JSON `text`, `document` or `template`
         message; answers 200 with a `wamid.<n>`, 401 (Graph code 190) on a
         wrong token, 400 (code 100) on a wrong shape, and refuses what Meta
         refuses (below)
    POST /{version}/{phone_number_id}/media        WhatsApp upload, multipart:
         messaging_product, type (a supported document type), file; answers
         {"id": "<n>"}, the id a `document` message must name
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
    GET  /_events     the webhooks this peer sent the gateway, as a JSON list of
                      {kind, status (the gateway's answer), body}

WhatsApp as Meta runs it (docs/services.md, section 1; each rule is cited
where the peer applies it). Control keys:

    {"whatsapp_webhook": {"url": U, "app_secret": S}}   where to send events,
        signed with S (`X-Hub-Signature-256`); after each accepted message the
        peer sends `sent` then `delivered` unless {"whatsapp_statuses": false}
    {"whatsapp_templates": [{"name", "language", "body_params",
                             "quick_replies"}]}   the approved templates (with
        their number of quick-reply buttons, 0 if not given); any other name,
        language, parameter or button count is refused with Meta's 132001 /
        132000
    {"whatsapp_opted_in": ["628…"]}   the numbers that opted in. Meta checks
        opt-in by policy, not per call, and has no error code for it, so this
        peer's refusal is its own (code 0, "peer: …"), never a Meta code
    {"whatsapp_user_writes": {"from": "628…", "payload"?: "…"}}   the user
        writes to the business number (with `payload`: taps the template's
        quick-reply button carrying it): opens their 24-hour window, and POSTs
        the signed `messages` event to the gateway (the answer has
        `webhook_status`)
    {"whatsapp_fail": {"id": "wamid.3", "code": 131026}}   a late `failed`
        status for a message already taken (the answer has `webhook_status`)
    {"whatsapp_window_closes": "628…"}   the user's window closes now, whatever
        the gateway was told (its clock and Meta's may disagree)
    {"whatsapp_status_first": true}   the statuses of a message are sent
        before the answer that names its `wamid`, not 0.3 s after it: Meta
        promises no order between the two (docs/services.md W2, W12)
    {"whatsapp_next_wamid": "wamid.x"}   the next message taken is answered with
        this `wamid` (a test can then send its statuses before the message)
    {"whatsapp_pair_limit": {"628…": 1}}   the next n messages to that number
        hit the pair rate limit: 400 with Meta's 131056, other numbers unaffected
    {"whatsapp_reengagement": "sync"|"async"}   how free-form text outside the
        window fails: a 400 with 131047 (the default) or a 200 and then a
        `failed` status with 131047

Telegram, as the Bot API server answers (docs/services.md section 2):

    {"telegram_migrated": {"-100777": -1001777}}   these groups became
        supergroups: a send to the old id gets 400 "Bad Request: group chat was
        upgraded to a supergroup chat" with `parameters.migrate_to_chat_id`
    {"telegram_not_started": ["123456"]}   users who never started the bot:
        403 "Forbidden: bot can't initiate conversation with a user"
    {"telegram_unreachable": {"-100555": "kicked_supergroup", "4242": "blocked"}}
        chats the bot can no longer reach, each answered with the Bot API's
        error for it (TELEGRAM_UNREACHABLE, docs/services.md T6, T8, T9):
        `blocked`, `kicked_group`, `kicked_supergroup`, `deactivated`,
        `not_member`, `group_deleted`, `chat_not_found`
    {"telegram_reachable": ["-100555"]}   the bot reaches these chats again (a
        `telegram_user_writes` from a chat does the same)
    {"telegram_fail_method": {"method": "sendDocument", "times": 1}}   the next
        `times` calls of that method alone fail with a 500 (the Bot API's answer
        to a server error), the other methods answering as usual

    {"telegram_webhook": {"url": U, "secret_token": S}}   where to send updates,
        with `X-Telegram-Bot-Api-Secret-Token: S` (docs/services.md T11)
    {"telegram_tap": {"chat_id": C, "button": 0, "language_code"?: "id",
                      "data"?: "…", "secret_token"?: "…"}}   the user of chat C
        taps button 0 of the inline keyboard under the last message sent there
        (or sends `data` as a modified client can); POSTs a `callback_query`
        update; the answer has `webhook_status`, `update_id`, `callback_query_id`
    {"telegram_user_writes": {"chat_id": C, "text": T, "date"?: unix}}   a text
        message update from chat C
    {"telegram_replay": update_id}   POSTs an update sent before again, as it was
    `answerCallbackQuery` takes each callback query once, with text of at most
        200 characters; answered ones are listed by GET /_events (kind
        `telegram answer`)

    {"whatsapp_user_taps": {"from": N, "button": 0, "timestamp"?: unix,
                            "id"?: "…"}}   the user taps reply button 0 of the
        last interactive message sent to N (or sends a button reply with this
        `id`); with {"template": true} taps the last template's quick reply
        instead (a `button` message); the answer has `webhook_status`, `wamid`
    {"whatsapp_replay": wamid}   POSTs the signed event that carried this user
        message again, byte for byte

Lengths are counted in Python characters (code points), which is close
enough to both platforms' limits for tests.
"""

import argparse
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
from email import policy
from email.parser import BytesParser
from http import HTTPStatus
from urllib.parse import parse_qsl

from peerlib import Control, PeerHandler, Recorder, announce, http_server, text_or_base64

WHATSAPP_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)/(messages|media)$")
# "Supported document types": .txt .xls .xlsx .doc .docx .ppt .pptx .pdf, and
# "Only the above listed document types are officially supported" (Meta's
# document-messages page, docs/services.md W5). `text/csv` is not one.
WHATSAPP_DOCUMENT_TYPES = {
    "text/plain", "application/pdf", "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# "When a user messages you, a 24-hour timer called a customer service window
# starts or refreshes" (docs/services.md W1).
SERVICE_WINDOW_SECONDS = 24 * 3600
# Meta's example `to` is E.164 (`+16505551234`, docs/services.md W4): digits
# with the country code, which never starts with 0.
WHATSAPP_NUMBER = re.compile(r"^\+?[1-9][0-9]{7,14}$")
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


def meta_error(code, message, details):
    """A Graph API error as Meta writes it: `message` with the code in it,
    `error_data.details` (docs/services.md W2, 1.2)."""
    return {"error": {"message": message, "type": "OAuthException", "code": code,
                      "error_data": {"messaging_product": "whatsapp", "details": details},
                      "fbtrace_id": "peer"}}


# Meta's wording for 131047, as relayed in real webhook payloads (docs/services.md W2).
REENGAGEMENT_DETAILS = ("Message failed to send because more than 24 hours have passed "
                        "since the customer last replied to this number.")


def sign(app_secret, body):
    """`X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the raw body,
    keyed with the app secret (docs/services.md W11)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def notification(value):
    """A `whatsapp_business_account` webhook around one `messages` change
    (docs/services.md W12, W14)."""
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550783881", "phone_number_id": "1055"},
             **value}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398",
                       "changes": [{"value": value, "field": "messages"}]}]}


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


# Chats the bot can no longer reach, as the Bot API server answers a send to
# them: status and description (docs/services.md T6, T8, T9; `Client.cpp`).
TELEGRAM_UNREACHABLE = {
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "kicked_group": (403, "Forbidden: bot was kicked from the group chat"),
    "kicked_supergroup": (403, "Forbidden: bot was kicked from the supergroup chat"),
    "deactivated": (403, "Forbidden: user is deactivated"),
    "not_member": (403, "Forbidden: bot is not a member of the group chat"),
    "group_deleted": (403, "Forbidden: the group chat was deleted"),
    "chat_not_found": (400, "Bad Request: chat not found"),
    # A bot writing first to a user, as quoted in
    # github.com/tdlib/telegram-bot-api/issues/198 (docs/services.md T7).
    "not_started": (403, "Forbidden: bot can't initiate conversation with a user"),
}


class ChatHandler(PeerHandler):
    def control_extra(self, doc):
        wa = self.server.whatsapp
        answer = {}
        if "unknown_recipients" in doc:
            self.server.unknown_recipients = {str(r) for r in doc["unknown_recipients"]}
        if "whatsapp_webhook" in doc:
            wa.webhook = doc["whatsapp_webhook"]
        if "whatsapp_pair_limit" in doc:
            wa.pair_limited = {str(k).lstrip("+"): int(v)
                               for k, v in doc["whatsapp_pair_limit"].items()}
        if "telegram_not_started" in doc:
            self.server.telegram_unreachable.update(
                (str(c), "not_started") for c in doc["telegram_not_started"])
        if "telegram_unreachable" in doc:
            unreachable = {str(k): str(v) for k, v in doc["telegram_unreachable"].items()}
            unknown = set(unreachable.values()) - set(TELEGRAM_UNREACHABLE)
            if unknown:
                raise ValueError(f"telegram_unreachable: no such case {sorted(unknown)}")
            self.server.telegram_unreachable.update(unreachable)
        if "telegram_reachable" in doc:
            for chat in doc["telegram_reachable"]:
                self.server.telegram_unreachable.pop(str(chat), None)
        if "telegram_fail_method" in doc:
            rule = doc["telegram_fail_method"]
            self.server.telegram_fail_method[str(rule["method"])] = int(rule["times"])
        if "telegram_migrated" in doc:
            self.server.telegram_migrated = {str(k): int(v)
                                             for k, v in doc["telegram_migrated"].items()}
        if "whatsapp_statuses" in doc:
            wa.statuses = bool(doc["whatsapp_statuses"])
        if "whatsapp_templates" in doc:
            wa.templates = {(t["name"], t["language"]):
                             (int(t["body_params"]), int(t.get("quick_replies", 0)))
                             for t in doc["whatsapp_templates"]}
        if "whatsapp_opted_in" in doc:
            wa.opted_in = {str(n).lstrip("+") for n in doc["whatsapp_opted_in"]}
        if "whatsapp_status_first" in doc:
            wa.status_first = bool(doc["whatsapp_status_first"])
        if "whatsapp_next_wamid" in doc:
            wa.next_wamid = str(doc["whatsapp_next_wamid"])
        if "whatsapp_reengagement" in doc:
            mode = doc["whatsapp_reengagement"]
            if mode not in ("sync", "async"):
                raise ValueError(f"whatsapp_reengagement is sync or async, not {mode!r}")
            wa.reengagement = mode
        if "whatsapp_window_closes" in doc:
            wa.last_inbound.pop(str(doc["whatsapp_window_closes"]).lstrip("+"), None)
        if "whatsapp_user_writes" in doc:
            number = str(doc["whatsapp_user_writes"]["from"]).lstrip("+")
            now = int(time.time())
            wa.last_inbound[number] = now
            stamp = int(doc["whatsapp_user_writes"].get("timestamp", now))
            message = {"from": number, "id": f"wamid.in{next(self.server.counter)}",
                       "timestamp": str(stamp), "type": "text",
                       "text": {"body": doc["whatsapp_user_writes"].get("text", "halo")}}
            if "payload" in doc["whatsapp_user_writes"]:
                # A tapped quick reply (Meta's `button` message, docs/services.md W14).
                payload = doc["whatsapp_user_writes"]["payload"]
                message.update(type="button", button={"payload": payload, "text": payload})
                del message["text"]
            answer["webhook_status"] = wa.post(
                "messages", notification({"contacts": [{"profile": {"name": "user"},
                                                        "wa_id": number}],
                                          "messages": [message]}))
            answer["wamid"] = message["id"]
        if "whatsapp_user_taps" in doc:
            answer.update(wa.tap(doc["whatsapp_user_taps"], self.server.counter))
        if "whatsapp_replay" in doc:
            answer["webhook_status"] = wa.replay(str(doc["whatsapp_replay"]))
        if "telegram_webhook" in doc:
            self.server.telegram.webhook = doc["telegram_webhook"]
        if "telegram_tap" in doc:
            answer.update(self.server.telegram.tap(doc["telegram_tap"]))
        if "telegram_user_writes" in doc:
            # Whoever writes from a chat has unblocked the bot, or is in a group the
            # bot is in again: the bot reaches that chat.
            self.server.telegram_unreachable.pop(str(doc["telegram_user_writes"]["chat_id"]), None)
            answer.update(self.server.telegram.user_writes(doc["telegram_user_writes"]))
        if "telegram_replay" in doc:
            answer["webhook_status"] = self.server.telegram.replay(int(doc["telegram_replay"]))
        if "whatsapp_fail" in doc:
            fail = doc["whatsapp_fail"]
            answer["webhook_status"] = wa.post_status(
                fail["id"], "failed", failure(int(fail["code"])))
        return answer

    def do_GET(self):
        if self.path == "/_events":
            self.send_json(200, self.server.whatsapp.sent_events()
                           + self.server.telegram.sent_events())
        else:
            super().do_GET()

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
            record.update(api="whatsapp", method=m.group(3))
            record["document"] = files.get("file")
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
        wa = self.server.whatsapp
        if record["method"] == "media":
            return self.whatsapp_upload(record, parse_error)
        doc = record["json"]
        try:
            if parse_error or not isinstance(doc, dict):
                raise BadRequest(f"the body is not a JSON object {parse_error or ''}")
            if doc.get("messaging_product") != "whatsapp":
                raise BadRequest("messaging_product must be 'whatsapp'")
            if not isinstance(doc.get("to"), str) or not WHATSAPP_NUMBER.match(doc["to"]):
                raise BadRequest(f"to {doc.get('to')!r} is not a phone number with its country code")
            kind = doc.get("type", "text")
            if kind == "text":
                check_text((doc.get("text") or {}).get("body"), MAX_TEXT, "text.body")
            elif kind == "document":
                document = doc.get("document") or {}
                if document.get("id") not in wa.media:
                    raise BadRequest(f"document.id {document.get('id')!r} is no uploaded media")
            elif kind == "interactive":
                check_reply_buttons(doc.get("interactive") or {})
            elif kind != "template":
                raise BadRequest(f"message type {kind!r} is not supported here")
        except BadRequest as e:
            return 400, graph_error(400, f"(#100) Invalid parameter: {e}")
        to = doc["to"].lstrip("+")
        if to in self.server.unknown_recipients:
            return 400, unreachable_number_error()
        if wa.pair_limited.get(to, 0) > 0:
            # The pair rate limit: "(#131056) (Business Account, Consumer Account)
            # pair rate limit hit", about one message every 6 s to one user
            # (docs/services.md 1.4); other numbers are sent to as usual.
            wa.pair_limited[to] -= 1
            return 400, meta_error(
                131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit",
                "Message failed to send because there were too many messages sent from "
                "this phone number to the same phone number in a short period of time.")
        reengagement = False
        if kind == "template":
            refusal = wa.check_template(doc.get("template") or {}, to)
            if refusal:
                return 400, refusal
        elif not wa.window_open(to):
            # "All message types, except for template messages, can only be sent
            # when a customer service window is open" (docs/services.md W1).
            if wa.reengagement == "sync":
                return 400, meta_error(REENGAGEMENT, "(#131047) Re-engagement message",
                                       REENGAGEMENT_DETAILS)
            reengagement = True
        wamid, wa.next_wamid = wa.next_wamid or f"wamid.{next(self.server.counter)}", None
        wa.sent[wamid] = to
        if kind == "interactive":
            wa.buttons[to] = [b["reply"] for b in doc["interactive"]["action"]["buttons"]]
        elif kind == "template":
            wa.quick_replies[to] = [
                c["parameters"][0]["payload"]
                for c in (doc.get("template") or {}).get("components") or []
                if c.get("type") == "button"]
        if reengagement:
            wa.later(wamid, [("failed", failure(REENGAGEMENT))])
        elif wa.statuses:
            wa.later(wamid, [("sent", None), ("delivered", None)])
        return 200, {"messaging_product": "whatsapp",
                     "contacts": [{"input": doc["to"], "wa_id": to}],
                     "messages": [{"id": wamid}]}

    def whatsapp_upload(self, record, parse_error):
        """`POST /{phone-number-id}/media` (docs/services.md W6)."""
        fields, file = record["fields"], record["document"]
        try:
            if parse_error or not record["content_type"].startswith("multipart/form-data"):
                raise BadRequest("the upload must be multipart/form-data")
            if fields.get("messaging_product") != "whatsapp":
                raise BadRequest("messaging_product must be 'whatsapp'")
            if file is None:
                raise BadRequest("there is no file in the request")
            if fields.get("type") not in WHATSAPP_DOCUMENT_TYPES:
                raise BadRequest(f"type {fields.get('type')!r} is not a supported document type")
            if file["content_type"] != fields["type"]:
                raise BadRequest("the file's type is not the `type` field")
        except BadRequest as e:
            return 400, graph_error(400, f"(#100) Invalid parameter: {e}")
        media_id = str(4490709327384000 + next(self.server.counter))
        self.server.whatsapp.media[media_id] = file["filename"]
        return 200, {"id": media_id}

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
        if self.server.telegram_fail_method.get(method, 0) > 0:
            self.server.telegram_fail_method[method] -= 1
            return 500, telegram_error(500, "Internal Server Error")
        try:
            if parse_error:
                raise BadRequest(f"can't parse the request: {parse_error}")
            if method == "answerCallbackQuery":
                return self.server.telegram.answer_callback(fields)
            if method not in ("sendMessage", "sendDocument"):
                return 404, telegram_error(404, "Not Found")
            if fields.get("chat_id") in (None, ""):
                raise BadRequest("chat_id is empty")
            if str(fields["chat_id"]) in self.server.unknown_recipients:
                raise BadRequest("chat not found")
            case = self.server.telegram_unreachable.get(str(fields["chat_id"]))
            if case is not None:
                status, description = TELEGRAM_UNREACHABLE[case]
                return status, telegram_error(status, description)
            moved = self.server.telegram_migrated.get(str(fields["chat_id"]))
            if moved is not None:
                # The Bot API server's answer (Client.cpp 8150-8156, docs/services.md T5).
                return 400, {"ok": False, "error_code": 400,
                             "description": "Bad Request: group chat was upgraded to a "
                                            "supergroup chat",
                             "parameters": {"migrate_to_chat_id": moved}}
            result = {"message_id": next(self.server.counter), "date": int(time.time()),
                      "chat": {"id": fields["chat_id"], "type": "private"}}
            if method == "sendMessage":
                check_text(fields.get("text"), MAX_TEXT, "message text")
                result["text"] = fields["text"]
                if "reply_markup" in fields:
                    markup = fields["reply_markup"]
                    if isinstance(markup, str):
                        markup = json.loads(markup)
                    result["reply_markup"] = check_inline_keyboard(markup)
                    self.server.telegram.keyboards[str(fields["chat_id"])] = (
                        result["message_id"], result["reply_markup"])
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


def check_reply_buttons(interactive):
    """An interactive reply-buttons message as Meta takes it: "up to three
    predefined replies" (developers.facebook.com/documentation/business-messaging/
    whatsapp/messages/interactive-reply-buttons-messages); each button's `title`
    "cannot be an empty string and must be unique within the message ... Maximum
    length of 20 characters", its `id` "Maximum length of 256 characters"
    (whatsapp.github.io/WhatsApp-Nodejs-SDK/api-reference/types/ButtonObject); the
    body text at most 1024 characters (docs/services.md W15)."""
    if interactive.get("type") != "button":
        raise BadRequest(f"interactive.type {interactive.get('type')!r} is not button")
    check_text((interactive.get("body") or {}).get("text"), 1024, "interactive.body.text")
    buttons = (interactive.get("action") or {}).get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise BadRequest("interactive.action.buttons must hold 1 to 3 buttons")
    titles, ids = set(), set()
    for button in buttons:
        reply = button.get("reply") or {}
        if button.get("type") != "reply":
            raise BadRequest("a reply button's type must be reply")
        title, button_id = reply.get("title"), reply.get("id")
        if not isinstance(title, str) or not title or len(title) > 20:
            raise BadRequest(f"button title {title!r} must be 1 to 20 characters")
        if not isinstance(button_id, str) or not button_id or len(button_id) > 256 \
                or button_id != button_id.strip():
            raise BadRequest(f"button id {button_id!r} must be 1 to 256 characters")
        if title in titles or button_id in ids:
            raise BadRequest("button titles and ids must be unique within the message")
        titles.add(title)
        ids.add(button_id)


def check_inline_keyboard(markup):
    """An InlineKeyboardMarkup as the Bot API takes it
    (core.telegram.org/bots/api#inlinekeyboardmarkup): `inline_keyboard`, an
    array of button rows; each InlineKeyboardButton has a `text` and "exactly
    one of the optional fields", and `callback_data` is "1-64 bytes"
    (#inlinekeyboardbutton, docs/services.md T12). Telegram answers a bad one
    400 "Bad Request: BUTTON_DATA_INVALID" (callback_data) or "can't parse
    inline keyboard button" (the rest)."""
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise BadRequest("can't parse reply keyboard markup JSON object")
    optional = {"url", "callback_data", "web_app", "login_url", "switch_inline_query",
                "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                "copy_text", "callback_game", "pay"}
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str) \
                    or not button["text"]:
                raise BadRequest("can't parse inline keyboard button: Text is empty")
            if len(optional & button.keys()) != 1:
                raise BadRequest("can't parse inline keyboard button: exactly one of the "
                                 "optional fields must be used")
            data = button.get("callback_data")
            if data is not None and (not isinstance(data, str)
                                     or not 1 <= len(data.encode()) <= 64):
                raise BadRequest("BUTTON_DATA_INVALID")
    return markup


class Telegram:
    """What the Telegram side of the peer knows: the keyboards it sent, the
    callback queries it issued, and where to send updates."""

    def __init__(self, counter):
        self.lock = threading.Lock()
        self.counter = counter
        self.webhook = None
        self.keyboards = {}
        self.queries = {}
        self.updates = {}
        self.events = []
        self.next_update = 700000

    def post(self, kind, update, secret_token=None):
        if not self.webhook:
            return 0
        token = self.webhook.get("secret_token") if secret_token is None else secret_token
        headers = {"Content-Type": "application/json"}
        if token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        body = json.dumps(update).encode()
        request = urllib.request.Request(self.webhook["url"], data=body, method="POST",
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as e:
            status = e.code
        except OSError:
            status = 0
        with self.lock:
            self.events.append({"kind": kind, "status": status, "body": update})
        return status

    def new_update(self, content, secret_token=None, kind="telegram update"):
        with self.lock:
            self.next_update += 1
            update = {"update_id": self.next_update, **content}
            self.updates[update["update_id"]] = (update, secret_token)
        return update, self.post(kind, update, secret_token)

    def tap(self, doc):
        chat_id = str(doc["chat_id"])
        message_id, markup = self.keyboards.get(chat_id, (next(self.counter), None))
        data = doc.get("data")
        if data is None:
            buttons = [b for row in (markup or {}).get("inline_keyboard", []) for b in row]
            data = buttons[int(doc.get("button", 0))]["callback_data"]
        query_id = f"cbq{next(self.counter)}"
        with self.lock:
            self.queries[query_id] = None
        user = {"id": int(chat_id), "is_bot": False, "first_name": "Craftsman",
                "language_code": doc.get("language_code", "id")}
        update, status = self.new_update({"callback_query": {
            "id": query_id, "from": user, "chat_instance": f"ci{chat_id}", "data": data,
            "message": {"message_id": message_id, "date": int(time.time()) - 60,
                        "chat": {"id": int(chat_id), "type": "private"}, "text": "order"}}},
            doc.get("secret_token"), "telegram callback_query")
        return {"webhook_status": status, "update_id": update["update_id"],
                "callback_query_id": query_id}

    def user_writes(self, doc):
        chat_id = int(doc["chat_id"])
        update, status = self.new_update({"message": {
            "message_id": next(self.counter), "date": int(doc.get("date", time.time())),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Craftsman"},
            "text": doc["text"]}}, doc.get("secret_token"), "telegram message")
        return {"webhook_status": status, "update_id": update["update_id"]}

    def replay(self, update_id):
        update, secret_token = self.updates[update_id]
        return self.post("telegram replay", update, secret_token)

    def answer_callback(self, fields):
        """answerCallbackQuery (core.telegram.org/bots/api#answercallbackquery):
        `callback_query_id` required, `text` 0-200 characters; a query answered
        before, or never issued, gets the Bot API server's QUERY_ID_INVALID text
        (Client.cpp 146-148, docs/services.md T12)."""
        query_id = str(fields.get("callback_query_id") or "")
        text = fields.get("text", "")
        with self.lock:
            if query_id not in self.queries or self.queries[query_id] is not None:
                return 400, telegram_error(400, "Bad Request: query is too old and response "
                                                "timeout expired or query ID is invalid")
            if not isinstance(text, str) or len(text) > 200:
                return 400, telegram_error(400, "Bad Request: MESSAGE_TOO_LONG")
            self.queries[query_id] = text
            self.events.append({"kind": "telegram answer", "status": 200,
                                "body": {"callback_query_id": query_id, "text": text}})
        return 200, {"ok": True, "result": True}

    def sent_events(self):
        with self.lock:
            return list(self.events)


REENGAGEMENT = 131047
# Codes a late `failed` status can carry, with Meta's titles as relayed
# (docs/services.md 1.4). The payload's shape is Meta's errors object (W12).
FAILURE_TITLES = {
    131026: ("Message undeliverable", "Unable to deliver message."),
    131047: ("Re-engagement message", REENGAGEMENT_DETAILS),
    131049: ("This message was not delivered to maintain healthy ecosystem engagement.",
             "In order to maintain a healthy ecosystem engagement, the message failed "
             "to be delivered."),
    130429: ("Rate limit hit", "Message failed to send because there were too many "
             "messages sent from this phone number in a short period of time"),
}


def failure(code):
    title, details = FAILURE_TITLES.get(code, ("Failure", "Failure"))
    return {"code": code, "title": title, "message": title,
            "error_data": {"details": details},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}


class WhatsApp:
    """What the WhatsApp side of the peer knows: windows, templates, opt-ins,
    uploads, the messages it took, and where to send their statuses."""

    def __init__(self):
        self.pair_limited = {}
        self.lock = threading.Lock()
        self.webhook = None
        self.statuses = True
        self.templates = {}
        self.opted_in = None
        self.reengagement = "sync"
        self.status_first = False
        self.next_wamid = None
        self.last_inbound = {}
        self.media = {}
        self.sent = {}
        self.events = []
        self.buttons = {}
        self.quick_replies = {}
        self.raw = {}

    def window_open(self, number):
        last = self.last_inbound.get(number)
        return last is not None and time.time() < last + SERVICE_WINDOW_SECONDS

    def check_template(self, template, to):
        """Meta's answer to a template it would refuse, or None (docs/services.md 1.2)."""
        name = template.get("name")
        code = (template.get("language") or {}).get("code")
        expected, expected_buttons = self.templates.get((name, code), (None, 0))
        if expected is None:
            return meta_error(132001, "(#132001) Template name does not exist in the translation",
                              f"template name ({name}) does not exist in {code}")
        components = template.get("components") or []
        buttons = [c for c in components if c.get("type") == "button"
                   and c.get("sub_type") == "quick_reply"
                   and [p.get("type") for p in c.get("parameters") or []] == ["payload"]]
        if len(buttons) != expected_buttons:
            return meta_error(132000, "(#132000) Number of parameters does not match the "
                              "expected number of params",
                              f"buttons: {len(buttons)} quick replies where the template has "
                              f"{expected_buttons}")
        bodies = [c for c in components if c.get("type") == "body"]
        params = [p for c in bodies for p in c.get("parameters") or []]
        if len(params) != expected:
            return meta_error(132000, "(#132000) Number of parameters does not match the "
                              "expected number of params",
                              f"body: number of localizable_params ({len(params)}) does not "
                              f"match the expected number of params ({expected})")
        for p in params:
            text = p.get("text") if p.get("type") == "text" else None
            # "no newlines, tabs, or more than 4 consecutive spaces"
            # (developers.facebook.com/docs/whatsapp/message-templates/creation).
            if not isinstance(text, str) or not text or re.search(r"[\n\t]| {5,}", text):
                return meta_error(132018, "(#132018) There was an issue with the parameters "
                                  "in your template.", f"bad parameter text {text!r}")
        if self.opted_in is not None and to not in self.opted_in:
            # Not a Meta code: Meta has none for this (see the docstring).
            return {"error": {"message": f"peer: {to} has not opted in", "code": 0,
                              "type": "PeerPolicy", "fbtrace_id": "peer"}}
        return None

    def tap(self, doc, counter):
        """The user taps a reply button (or a template's quick reply): Meta's
        `interactive` `button_reply` message, or its `button` message
        (docs/services.md W14, W15)."""
        number = str(doc["from"]).lstrip("+")
        now = int(time.time())
        self.last_inbound[number] = now
        index = int(doc.get("button", 0))
        message = {"from": number, "id": f"wamid.in{next(counter)}",
                   "timestamp": str(int(doc.get("timestamp", now)))}
        if doc.get("template"):
            payload = doc.get("id") or self.quick_replies[number][index]
            message.update(type="button", button={"payload": payload, "text": payload})
        else:
            reply = ({"id": doc["id"], "title": "?"} if "id" in doc
                     else self.buttons[number][index])
            message.update(type="interactive", interactive={
                "type": "button_reply", "button_reply": {"id": reply["id"],
                                                         "title": reply["title"]}})
        status = self.post("messages", notification({
            "contacts": [{"profile": {"name": "user"}, "wa_id": number}],
            "messages": [message]}))
        return {"webhook_status": status, "wamid": message["id"]}

    def replay(self, wamid):
        body = self.raw[wamid]
        return self.post_raw("replay", json.loads(body), body)

    def post(self, kind, doc):
        """POSTs a signed event to the gateway; the status it answered (0: none)."""
        if not self.webhook:
            return 0
        body = json.dumps(doc).encode()
        for change in (c for e in doc.get("entry", []) for c in e.get("changes", [])):
            for message in change.get("value", {}).get("messages", []):
                self.raw[message["id"]] = body
        return self.post_raw(kind, doc, body)

    def post_raw(self, kind, doc, body):
        if not self.webhook:
            return 0
        request = urllib.request.Request(
            self.webhook["url"], data=body, method="POST",
            headers={"Content-Type": "application/json",
                     "X-Hub-Signature-256": sign(self.webhook["app_secret"], body)})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as e:
            status = e.code
        except OSError:
            status = 0
        with self.lock:
            self.events.append({"kind": kind, "status": status, "body": doc})
        return status

    def post_status(self, wamid, status, error=None):
        item = {"id": wamid, "status": status, "timestamp": str(int(time.time())),
                "recipient_id": self.sent.get(wamid, "")}
        if error:
            item["errors"] = [error]
        return self.post(f"status {status}", notification({"statuses": [item]}))

    def later(self, wamid, statuses):
        """Sends statuses after the answer, as Meta does, in order; or, with
        `status_first`, now, before the answer leaves (the gateway then hears
        of the `wamid` from the status first)."""
        def run(delay):
            time.sleep(delay)
            for status, error in statuses:
                self.post_status(wamid, status, error)
        if self.status_first:
            run(0)
        else:
            threading.Thread(target=run, args=(0.3,), daemon=True).start()

    def sent_events(self):
        with self.lock:
            return list(self.events)


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
    server.whatsapp = WhatsApp()
    server.telegram_migrated = {}
    server.telegram_unreachable = {}
    server.telegram_fail_method = {}
    server.telegram = Telegram(server.counter)
    announce(f"listening on http://127.0.0.1:{server.server_address[1]}")
    server.serve_forever()


if __name__ == "__main__":
    main()
