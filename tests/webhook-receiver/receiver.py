#!/usr/bin/env python3
"""A webhook receiver for the tests, written the way a portal team would
write one from docs/webhooks.md, with Python's own hmac module: an HMAC
implementation independent of the registry's.

Usage: receiver.py LOGFILE  (prints "ready PORT" once it listens)

Each request is appended to LOGFILE as one JSON line: path, headers, body,
whether the signature checked out, whether the timestamp was fresh and
whether the delivery id was seen before. The secret for a path is set with
POST /_secret {"path": "/ok/form", "secret": "gwhsec_..."}.

Paths:
  /ok/...        answers 200 (401 when a secret is set and the check fails)
  /flaky/N/...   answers 500 to the first N requests of each delivery, then 200
  /fail/...      answers 500
  /hang/...      answers after 30 s
  /redirect?to=U answers 302 to U
  /big/...       answers 200 with 1 MiB
"""

import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

# The documented freshness window: a signed request older than this is a
# replay, whatever its signature.
MAX_AGE = int(os.environ.get("RECEIVER_MAX_AGE_SECS", "300"))

lock = threading.Lock()
secrets = {}
seen = set()
tries = {}
log_path = sys.argv[1]


def verify(secret, headers, body):
    """The check docs/webhooks.md describes."""
    timestamp = headers.get("X-Gemeinwerk-Timestamp", "")
    signature = headers.get("X-Gemeinwerk-Signature", "")
    expected = "sha256=" + hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    valid = hmac.compare_digest(expected, signature)
    try:
        fresh = abs(time.time() - int(timestamp)) <= MAX_AGE
    except ValueError:
        fresh = False
    return valid, fresh


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"ok", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        url = urlparse(self.path)
        if url.path == "/_secret":
            req = json.loads(body)
            with lock:
                secrets[req["path"]] = req["secret"]
            return self.answer(200)
        prefix = "/" + url.path.strip("/").split("/")[0]
        delivery = self.headers.get("X-Gemeinwerk-Delivery", "")
        with lock:
            secret = secrets.get(url.path)
            valid, fresh = verify(secret, self.headers, body) if secret else (None, None)
            duplicate = delivery in seen and bool(valid)
            tries[delivery] = tries.get(delivery, 0) + 1
            attempt = tries[delivery]
        status = 200
        if secret and not (valid and fresh):
            status = 401
        elif prefix == "/flaky":
            fails = int(url.path.strip("/").split("/")[1])
            status = 500 if attempt <= fails else 200
        elif prefix == "/fail":
            status = 500
        elif prefix == "/hang":
            time.sleep(30)
        elif prefix == "/redirect":
            to = parse_qs(url.query)["to"][0]
            status = 302
        # Processed only once per delivery id: exactly once in effect.
        if status == 200 and valid:
            with lock:
                seen.add(delivery)
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        entry = {
            "path": url.path,
            "status": status,
            "delivery": delivery,
            "event": self.headers.get("X-Gemeinwerk-Event"),
            "timestamp": self.headers.get("X-Gemeinwerk-Timestamp"),
            "signature": self.headers.get("X-Gemeinwerk-Signature"),
            "content_type": self.headers.get("Content-Type"),
            "valid": valid,
            "fresh": fresh,
            "duplicate": duplicate,
            "raw": body.decode("utf-8", "replace"),
            "body": parsed,
        }
        with lock, open(log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")
        if prefix == "/redirect" and status == 302:
            return self.answer(302, b"", [("Location", to)])
        if prefix == "/big":
            return self.answer(200, b"x" * (1 << 20))
        self.answer(status, b"received" if status == 200 else b"no")


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # The registry hangs up on /hang and /big on purpose.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


server = Server(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("ready", server.server_address[1], flush=True)
server.serve_forever()
