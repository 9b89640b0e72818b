#!/usr/bin/env python3
"""A DNS server on loopback for the e-mail authentication tests: it serves the
DKIM keys, SPF and DMARC records of the buyers' mail domains, as their real
name servers would, so the gateway's resolver asks it instead of the Internet.

    python3 tests/peers/dns_server.py --zone ZONE_JSON [--silent]

ZONE_JSON maps names to records: `{"mitra.test": {"TXT": ["v=spf1 -all"]},
"sel._domainkey.mitra.test": {"TXT": ["v=DKIM1; k=rsa; p=…"]}}`. A TXT string
longer than 255 bytes is split into 255-byte character-strings, as RFC 7208
§3.3 and RFC 6376 §3.6.2.2 expect publishers to do. A name with records
answers them for their type (an empty answer for another type: NOERROR/NODATA);
any other name is NXDOMAIN (RFC 1035 §4.1.1, RCODE 3), which SPF and DMARC read
as "no record".

With `--silent` it reads every query and never answers, on UDP and TCP: the
server that is down or cut off, which a resolver can only time out on.

Listens on UDP and TCP on the same free port of 127.0.0.1 and prints
`listening on 127.0.0.1:PORT` when ready. Built on `dnslib` (PyPI).
"""

import argparse
import json
import socket
import sys
import threading
import time

from dnslib import QTYPE, RCODE, RR, TXT, A, AAAA
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class ZoneResolver(BaseResolver):
    def __init__(self, zone):
        self.zone = {name.lower().rstrip("."): records for name, records in zone.items()}

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).lower().rstrip(".")
        qtype = QTYPE[request.q.qtype]
        records = self.zone.get(name)
        if records is None:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for value in records.get(qtype, []):
            if qtype == "TXT":
                data = value.encode()
                chunks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
                rdata = TXT(chunks)
            elif qtype == "A":
                rdata = A(value)
            elif qtype == "AAAA":
                rdata = AAAA(value)
            else:
                continue
            reply.add_answer(RR(request.q.qname, request.q.qtype, rdata=rdata, ttl=60))
        return reply


def free_port():
    """A port free on 127.0.0.1 for both UDP and TCP."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind(("127.0.0.1", port))
        except OSError:
            udp.close()
            tcp.close()
            continue
        udp.close()
        tcp.close()
        return port
    raise SystemExit("no free port")


def silent(port):
    """Reads queries on UDP and TCP and never answers."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("127.0.0.1", port))
    tcp.listen(16)
    held = []

    def accept():
        while True:
            conn, _ = tcp.accept()
            held.append(conn)  # kept open, never answered

    threading.Thread(target=accept, daemon=True).start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    while True:
        udp.recvfrom(65535)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--zone")
    parser.add_argument("--silent", action="store_true")
    args = parser.parse_args()
    port = free_port()
    if args.silent:
        silent(port)
        return
    with open(args.zone, encoding="utf-8") as f:
        zone = json.load(f)
    resolver = ZoneResolver(zone)
    # Each query on one line of stderr, for a failing test's log; stdout holds
    # only the ready line.
    logger = DNSLogger(
        "-recv,-send,-reply,-truncated,-data",
        prefix=False,
        logf=lambda line: print(line, file=sys.stderr, flush=True),
    )
    servers = [
        DNSServer(resolver, address="127.0.0.1", port=port, logger=logger),
        DNSServer(resolver, address="127.0.0.1", port=port, tcp=True, logger=logger),
    ]
    for server in servers:
        server.start_thread()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    try:
        while all(server.isAlive() for server in servers):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    sys.exit(1)


if __name__ == "__main__":
    main()
