"""A scriptable HTTP server on 127.0.0.1 playing a provider in tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from local.httpserver import Handler, LocalServer, serve_in_thread


@dataclass
class Reply:
    """What the server answers on one path."""

    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay: float = 0.0


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    client_port: int


class ProviderServer:
    """Answers each path with its scripted :class:`Reply` (or a list of them, in turn)."""

    def __init__(self) -> None:
        self.replies: dict[str, Reply | list[Reply]] = {}
        self.seen: list[Seen] = []
        self._server = LocalServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _reply(self, path: str) -> Reply:
        scripted = self.replies.get(path, Reply(404, b'{"error": "unscripted"}'))
        if isinstance(scripted, list):
            return scripted.pop(0) if len(scripted) > 1 else scripted[0]
        return scripted

    def _handler(self) -> type[Handler]:
        server = self

        class ProviderHandler(Handler):
            def _serve(self) -> None:
                self.read_body()
                server.seen.append(Seen(self.command, self.path, dict(self.headers.items()), self.client_address[1]))
                reply = server._reply(self.path.split("?")[0])
                if reply.delay:
                    time.sleep(reply.delay)
                self.respond(reply.status, reply.headers, reply.body)

            do_GET = do_POST = do_DELETE = _serve

        return ProviderHandler

    @contextmanager
    def running(self) -> Iterator[ProviderServer]:
        """Serve in a thread for the block."""
        serve_in_thread(self._server)
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
