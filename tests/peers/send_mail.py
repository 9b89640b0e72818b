#!/usr/bin/env python3
"""A buyer's mail client, for the integration tests: builds an order e-mail with
Python's own `email` package and sends it with `smtplib`, as any program would.

    python3 tests/peers/send_mail.py --port N --sender A --to A [--to A …]
        [--subject S] [--text T] [--message-id ID]
        [--attach PATH:NAME:TYPE …] [--xlsx NAME:ROWS_JSON]
        [--raw-out FILE] [--no-send] [--starttls CA_PEM]
        [--dkim KEY_PEM:SELECTOR:DOMAIN] [--tamper] [--source-ip IP]

`--xlsx` makes a workbook with openpyxl (one sheet, the rows given as a JSON list
of lists; numbers stay numbers) and attaches it. `--starttls` upgrades the session with STARTTLS
(RFC 3207), trusting only the CA in CA_PEM, and fails unless the server offers
it. `--raw-out` writes the exact
bytes sent, so a test can post the same message over HTTP. `--dkim` signs the
message with `dkimpy` (PyPI; RFC 6376, rsa-sha256, relaxed/simple, the key a
PKCS#1 PEM file) as the sender's mail server would; `--tamper` then changes
its body, as a relay that rewrites it would. `--source-ip` sends from that
loopback address (e.g. 127.0.0.2), so the server sees another client IP, for
SPF. Prints one JSON line:
`{"sent": true, "refused": {addr: [code, text]}}` (smtplib's `sendmail` result:
recipients refused while others were taken), or `{"sent": false, "stage":
"rcpt"|"data"|…, "code": N, "message": "…"}` when the server refused the whole
message, as smtplib raises it (SMTPRecipientsRefused, SMTPDataError, …).
"""

import argparse
import io
import json
import smtplib
import ssl
import sys
from email import policy
from email.message import EmailMessage
from email.utils import formatdate


def build(args):
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = args.sender
    msg["To"] = ", ".join(args.to)
    msg["Subject"] = args.subject
    msg["Date"] = formatdate(1795680000, localtime=False)  # 2026-11-26, fixed
    msg["Message-ID"] = f"<{args.message_id}>"
    msg.set_content(args.text)
    for spec in args.attach:
        path, name, content_type = spec.split(":", 2)
        maintype, subtype = content_type.split("/", 1)
        with open(path, "rb") as f:
            msg.add_attachment(f.read(), maintype=maintype, subtype=subtype, filename=name)
    for spec in args.xlsx:
        name, rows = spec.split(":", 1)
        import openpyxl  # only when a workbook is asked for

        book = openpyxl.Workbook()
        sheet = book.active
        for row in json.loads(rows):
            sheet.append(row)
        data = io.BytesIO()
        book.save(data)
        msg.add_attachment(
            data.getvalue(),
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=name,
        )
    raw = msg.as_bytes(policy=policy.SMTP)
    if args.dkim:
        import dkim  # only when a signature is asked for

        key_path, selector, domain = args.dkim.split(":", 2)
        with open(key_path, "rb") as f:
            key = f.read()
        signature = dkim.sign(
            raw,
            selector.encode(),
            domain.encode(),
            key,
            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
        )
        raw = signature + raw
    if args.tamper:
        raw = raw.replace(b"Terima kasih", b"Terima kasih banyak", 1)
    return raw


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--sender", required=True)
    parser.add_argument("--to", action="append", required=True)
    parser.add_argument("--subject", default="Pesanan")
    parser.add_argument("--text", default="")
    parser.add_argument("--message-id", default="order-1@mitra.test")
    parser.add_argument("--attach", action="append", default=[])
    parser.add_argument("--xlsx", action="append", default=[])
    parser.add_argument("--raw-out")
    parser.add_argument("--no-send", action="store_true")
    parser.add_argument("--starttls")
    parser.add_argument("--dkim")
    parser.add_argument("--tamper", action="store_true")
    parser.add_argument("--source-ip")
    args = parser.parse_args()

    raw = build(args)
    if args.raw_out:
        with open(args.raw_out, "wb") as f:
            f.write(raw)
    if args.no_send:
        print(json.dumps({"sent": False, "stage": "none"}))
        return
    try:
        source = (args.source_ip, 0) if args.source_ip else None
        with smtplib.SMTP("127.0.0.1", args.port, timeout=60, source_address=source) as smtp:
            smtp.ehlo("client.mitra.test")
            if args.starttls:
                context = ssl.create_default_context(cafile=args.starttls)
                smtp.starttls(context=context)
                smtp.ehlo("client.mitra.test")
            refused = smtp.sendmail(args.sender, args.to, raw)
            tls = smtp.sock.version() if isinstance(smtp.sock, ssl.SSLSocket) else None
            print(json.dumps({"sent": True, "tls": tls,
                              "refused": {k: [v[0], v[1].decode()] for k, v in refused.items()}}))
    except smtplib.SMTPRecipientsRefused as e:
        (code, text) = next(iter(e.recipients.values()))
        print(json.dumps({"sent": False, "stage": "rcpt", "code": code, "message": text.decode()}))
    except smtplib.SMTPResponseException as e:
        stage = "data" if isinstance(e, smtplib.SMTPDataError) else type(e).__name__
        print(json.dumps({"sent": False, "stage": stage, "code": e.smtp_code,
                          "message": e.smtp_error.decode(errors="replace")}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
