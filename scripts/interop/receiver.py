"""A webhook receiver written only against the `standardwebhooks` package: it verifies every delivery Paten
sends with `Webhook.verify` and appends what it saw to a log, one JSON object per line.

usage: receiver.py PORT_FILE SECRET_FILE LOG_FILE
The secret is read from SECRET_FILE on every request (it is written after the integration is made).
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

port_file, secret_file, log_file = sys.argv[1:4]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {name: value for name, value in self.headers.items()}
        entry = {"id": headers.get("webhook-id") or headers.get("Webhook-Id")}
        try:
            with open(secret_file) as f:
                payload = Webhook(f.read().strip()).verify(body, headers)
            entry.update(verified=True, type=payload["type"], data=payload["data"])
            status = 204
        except (WebhookVerificationError, OSError, ValueError) as error:
            entry.update(verified=False, error=str(error))
            status = 400
        with open(log_file, "a") as f:
            f.write(json.dumps(entry) + "\n")
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
