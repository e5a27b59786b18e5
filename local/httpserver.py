"""What the local HTTP servers (gateway, Upstash endpoint, test providers) share."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, quiet, reading and writing whole bodies."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, a 40 ms delayed-ACK stall per answer.
    disable_nagle_algorithm = True

    def read_body(self) -> bytes:
        """The request's body (empty when it has none)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def respond(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        """Send the whole answer; a client that already gave up is not an error."""
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing per request (subclasses may)."""


class LocalServer(ThreadingHTTPServer):
    """A threaded HTTP server on 127.0.0.1 whose backlog takes a burst of clients (the default, 5, resets them)."""

    request_queue_size = 128
    daemon_threads = True


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    """Serve ``server`` on a daemon thread until ``server.shutdown()``."""
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread
