"""A webhook receiver that counts: every POST is appended to LOG_FILE as one line holding its `webhook-id`, then
answered 204 after a short pause (so that deliveries from several instances overlap in time).

usage: counter.py PORT_FILE LOG_FILE [PORT]   (PORT: listen there instead of on a free port)
"""
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, log_file = sys.argv[1:3]
port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        with lock, open(log_file, "a") as f:
            f.write((self.headers.get("webhook-id") or "missing") + "\n")
        time.sleep(0.01)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


ThreadingHTTPServer.allow_reuse_address = True
server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
with open(port_file, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
