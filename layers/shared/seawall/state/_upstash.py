"""A small client for Upstash Redis's REST API, on the layer's HTTP client.

upstash-redis builds its own httpx client with no timeout and offers no
public way to give it one, so a slow Upstash would hold an invocation until
Lambda kills it. This client sends the same protocol (one command as a JSON
array per POST, ``Authorization: Bearer``; ``{"result": ...}`` or
``{"error": ...}`` back) through :func:`seawall.http.request`: every request
is bounded by the state timeouts and cut to the invocation's deadline, and is
never retried here (a resent INCR or EVAL could apply twice). It offers the
commands the stores use, with upstash-redis's signatures; the state contract
suite holds it to the same behaviour as the DynamoDB stores, and a test to the
SDK's reading of the same data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx

from seawall.errors import IntegrationError
from seawall.http import Timeouts, http_client, request

SERVICE = "upstash"


class UpstashRest:
    """Redis commands over Upstash's REST API, each one request with the given timeouts.

    The URL and token come from ``credentials`` when a command is sent, not
    when the client is made: a container never holds a token its secret no
    longer gives (a rotation, a SnapStart restore), and nothing is read or
    connected before the first command.
    """

    def __init__(self, credentials: Callable[[], tuple[str, str]], timeout_seconds: float) -> None:
        self.timeouts = Timeouts(timeout_seconds, timeout_seconds, timeout_seconds, timeout_seconds)
        self._credentials = credentials
        self._client: httpx.Client | None = None

    @classmethod
    def at(cls, url: str, token: str, timeout_seconds: float) -> UpstashRest:
        """A client for a fixed URL and token."""
        return cls(lambda: (url, token), timeout_seconds)

    def _connection(self) -> tuple[httpx.Client, str]:
        url, token = self._credentials()
        if self._client is None or str(self._client.base_url).rstrip("/") != url.rstrip("/"):
            self._client = http_client(SERVICE, base_url=url, timeouts=self.timeouts, quiet=True)
        return self._client, token

    def execute(self, *command: object) -> Any:
        """Run one command (``"SET", "k", "v"``) and return its result; a Redis error raises IntegrationError."""
        client, token = self._connection()
        response = request(
            client,
            "POST",
            "/",
            service=SERVICE,
            timeouts=self.timeouts,
            json=[str(part) for part in command],
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        if not isinstance(body, dict) or "error" in body:
            raise IntegrationError(SERVICE, "the command failed", status_code=response.status_code)
        return body.get("result")

    def get(self, key: str) -> str | None:
        """The string at ``key``, or ``None``."""
        value: str | None = self.execute("GET", key)
        return value

    def set(self, key: str, value: str, *, nx: bool = False, px: int | None = None) -> bool:
        """SET, optionally only if absent (``nx``) and expiring after ``px`` milliseconds; whether it was set."""
        command: list[object] = ["SET", key, value]
        if nx:
            command.append("NX")
        if px is not None:
            command += ["PX", px]
        return bool(self.execute(*command) == "OK")

    def delete(self, *keys: str) -> int:
        """Delete ``keys``; how many existed."""
        return int(self.execute("DEL", *keys))

    def hgetall(self, key: str) -> dict[str, str]:
        """The hash at ``key`` as a dict (empty when absent)."""
        flat = self.execute("HGETALL", key) or []
        return dict(zip(flat[::2], flat[1::2], strict=True))

    def eval(self, script: str, keys: Sequence[str] = (), args: Sequence[object] = ()) -> Any:
        """Run a Lua ``script`` atomically on ``keys`` with ``args``."""
        return self.execute("EVAL", script, len(keys), *keys, *args)
