#!/usr/bin/env python3
"""A craftsman's webhook endpoint, for the integration tests.

Every POST (any path but `/_control`) is a delivery: it is verified with the
independent `standardwebhooks` package against `--secret`, recorded, and
answered 204 when the signature holds, 400 when it does not.

    python3 tests/peers/webhook_receiver.py --secret whsec_... [--port N] [--record FILE]
                                            [--control JSON]

Prints `listening on http://127.0.0.1:PORT` once ready. Port 0 (the default)
picks a free port; `--port` brings a receiver back up where one was before.
`--control` applies a control document before the first request, so a
receiver brought back up fails from its very first delivery.

    GET  /_received   every delivery so far, as a JSON list of
                      {path, webhook_id, webhook_timestamp, verified,
                       verify_error, status, headers, body}
    POST /_control    switch failures on and off at run time; see peerlib.py
                      (`{"status": 500}`, `{"fail_next": 2, "status": 503}`,
                      `{"status": 410}` for Gone, `{"status": 204}` to heal);
                      `{"secret": "whsec_..."}` verifies with another secret;
                      `{"retry_after_header": "120"}` sends `Retry-After: 120`
                      (seconds, or an HTTP date) with every forced failure,
                      `null` stops it

A forced failure is answered before the signature is checked, like a server
that is down; the delivery is still verified and recorded.
"""

import argparse
import json

from standardwebhooks import Webhook

from peerlib import Control, PeerHandler, Recorder, announce, http_server, parse_json_or_text


class WebhookHandler(PeerHandler):
    def deliver(self, path, body):
        verified, verify_error = True, None
        try:
            self.server.webhook.verify(body, dict(self.headers.items()), json_parse=False)
        except Exception as e:  # the package raises a few kinds on malformed headers
            verified, verify_error = False, f"{type(e).__name__}: {e}"
        status = self.server.control.forced_status() or (204 if verified else 400)
        self.server.recorder.add({
            "path": path,
            "webhook_id": self.headers.get("webhook-id"),
            "webhook_timestamp": self.headers.get("webhook-timestamp"),
            "verified": verified,
            "verify_error": verify_error,
            "status": status,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": parse_json_or_text(body),
        })
        if status == 400 and not verified:
            self.send_json(400, {"error": verify_error})
        else:
            hint = self.server.retry_after_header
            # "Retry-After = HTTP-date / delay-seconds" (RFC 9110 §10.2.3), sent
            # with a refusal such as a 503 or a 429 (docs/services.md H1, H2).
            headers = [("Retry-After", hint)] if hint is not None and status >= 300 else []
            self.send_bytes(status, b"", "", headers)

    def control_extra(self, doc):
        # For a secret the gateway makes only after it knows the receiver's URL.
        if "secret" in doc:
            self.server.webhook = Webhook(doc["secret"])
        if "retry_after_header" in doc:
            hint = doc["retry_after_header"]
            self.server.retry_after_header = None if hint is None else str(hint)


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--secret", required=True, help="whsec_… signing secret")
    args.add_argument("--port", type=int, default=0)
    args.add_argument("--record", help="also append each delivery to this JSON-lines file")
    args.add_argument("--control", help="a control document to apply before serving")
    opts = args.parse_args()

    server = http_server(WebhookHandler, opts.port, Recorder(opts.record),
                         Control(normal={200, 204}, default_fail_status=503))
    if opts.control:
        server.control.apply(json.loads(opts.control), server.recorder)
    server.webhook = Webhook(opts.secret)
    server.retry_after_header = None
    announce(f"listening on http://127.0.0.1:{server.server_address[1]}")
    server.serve_forever()


if __name__ == "__main__":
    main()
