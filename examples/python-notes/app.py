"""A small notes service: the second stack that proves the build mechanism is generic."""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "8000"))
TITLE = os.environ.get("NOTES_TITLE", "Notes")
NOTES_FILE = os.environ.get("NOTES_FILE", "/etc/python-notes/notes.txt")


def notes():
    try:
        with open(NOTES_FILE) as f:
            return [line.strip() for line in f if line.strip()]
    except OSError:
        return []


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            body, ctype = b"healthy\n", "text/plain"
        else:
            body, ctype = (json.dumps({"title": TITLE, "notes": notes()}) + "\n").encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.address_string(), fmt % args))
        sys.stdout.flush()


def main():
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)

    def stop(signum, frame):
        # Lifecycle conformance: stop accepting, finish in-flight requests, exit 0.
        server.server_close()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("python-notes listening on %d" % PORT, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
