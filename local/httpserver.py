"""What the local HTTP servers (gateway, Upstash endpoint, test providers) share."""

from __future__ import annotations

import json
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class BadRequest(Exception):
    """The request cannot be read (its framing is broken); the answer is 400 and the connection closes."""


def problem(status: int, detail: str) -> tuple[int, dict[str, str], bytes]:
    """An answer as application/problem+json."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    return status, {"Content-Type": "application/problem+json"}, json.dumps(body).encode()


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, quiet, reading and writing whole bodies."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, a 40 ms delayed-ACK stall per answer.
    disable_nagle_algorithm = True

    def read_body(self) -> bytes:
        """The request's body (empty when it has none), sent with a Content-Length or chunked.

        Raises :class:`BadRequest` when the framing cannot be trusted.
        """
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunks()
        declared = self.headers.get("Content-Length") or "0"
        if not declared.isascii() or not declared.isdigit() or len(declared) > 12:  # noqa: PLR2004
            raise BadRequest("Content-Length is not a length")
        length = int(declared)
        return self.rfile.read(length) if length else b""

    def _read_chunks(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = self.rfile.readline(64).split(b";", 1)[0].strip()
            try:
                length = int(size, 16)
            except ValueError:
                raise BadRequest("a chunk's size is not a size") from None
            if length == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(length))
            self.rfile.readline(8)  # the chunk's CRLF

    def body_or_refusal(self) -> bytes | None:
        """The request's body; ``None`` once a 400 is answered because its framing cannot be trusted."""
        try:
            return self.read_body()
        except BadRequest as error:
            self.close_connection = True
            self.respond(*problem(400, str(error)))
            return None

    def reset(self) -> None:
        """Drop the connection with a reset (SO_LINGER 0), as a connection lost mid-answer looks to the client."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.connection.close()

    def respond(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        """Send the whole answer (no body to a HEAD); a client that already gave up is not an error."""
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the HTTP layer itself finds (a header too long, a bad request line) as problem+json."""
        self.close_connection = True
        self.respond(*problem(code, message or HTTPStatus(code).phrase))

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing per request (subclasses may)."""


class ServedOnThread:
    """What a local service built on a :class:`LocalServer` shares: start on a thread, stop, its URL."""

    _server: ThreadingHTTPServer
    url: str

    def start(self) -> str:
        """Serve on a thread; returns the base URL."""
        serve_in_thread(self._server)
        return self.url

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


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


Answer = tuple[int, dict[str, str], bytes]


def _control_spec(body: bytes) -> dict[str, Any]:
    """A control request's body: a JSON object (none is ``{}``); raises ValueError or TypeError otherwise."""
    spec = json.loads(body or b"{}")
    if not isinstance(spec, dict):
        raise TypeError("the body must be a JSON object")
    return spec


class Sandbox(ServedOnThread):
    """A provider sandbox: ``/_sandbox/...`` goes to :meth:`control`, the rest to :meth:`serve_api`."""

    def control(self, method: str, path: str, spec: dict[str, Any]) -> Answer:
        """Answer a control request, ``spec`` its JSON object body; raises ValueError, KeyError or TypeError (a 400)."""
        raise NotImplementedError

    def serve_api(self, request: Handler, body: bytes) -> Answer | None:
        """Answer an API request; ``None`` drops the connection."""
        raise NotImplementedError

    def _handler_class(self) -> type[Handler]:
        sandbox = self

        class SandboxHandler(Handler):
            def _serve(self) -> None:
                body = self.body_or_refusal()
                if body is None:
                    return
                path = urlsplit(self.path).path
                answer: Answer | None
                if not path.startswith("/_sandbox/"):
                    answer = sandbox.serve_api(self, body)
                else:
                    try:
                        answer = sandbox.control(self.command, path, _control_spec(body))
                    except (KeyError, TypeError, ValueError) as error:
                        answer = problem(400, f"bad sandbox request: {error!r}")
                if answer is None:
                    self.reset()
                    return
                self.respond(*answer)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return SandboxHandler
