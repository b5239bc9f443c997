"""A real threaded HTTP server on a free 127.0.0.1 port, for client integration tests.

``/status/<code>`` responds with that status; ``/slow/<seconds>`` waits, then
responds with 200; any other path gets 200. Every request is counted in ``hits``.
"""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class TestServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        # A client that timed out closes its socket before the slow response is
        # written; the broken pipe that follows is expected.
        pass


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.hits.append(self.path)
        status = 200
        parts = self.path.strip("/").split("/")
        if parts[0] == "status":
            status = int(parts[1])
        elif parts[0] == "slow":
            time.sleep(float(parts[1]))
        body = f"status {status}".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


def start_server():
    """Start a TestServer in a daemon thread and return it; call ``stop_server`` after."""
    server = TestServer()
    # A short poll interval keeps shutdown() quick.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    return server


def stop_server(server):
    server.shutdown()
    server.server_close()
