"""The httpx client factory and the request call every provider client uses.

Whoever builds a client keeps it (a provider client, a store), so a warm
Lambda container reuses its connections across invocations.
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httpx
from aws_lambda_powertools.metrics import MetricUnit

from seawall.deadline import current_deadline
from seawall.errors import DeadlineExceededError, IntegrationError, ProviderTimeoutError
from seawall.http._responses import error_from_response
from seawall.observability._logging import logger
from seawall.observability._metrics import emit
from seawall.version import __version__

USER_AGENT = f"seawall/{__version__} (+aws-lambda)"
_STARTED = "seawall.started"


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed to connect, to read, to write, and to wait for a pooled connection."""

    connect: float = 3.0
    read: float = 10.0
    write: float = 10.0
    pool: float = 2.0

    def as_httpx(self) -> httpx.Timeout:
        """All four set explicitly: httpx never falls back to a default."""
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)

    def bounded_by(self, seconds: float) -> httpx.Timeout:
        """These timeouts, none longer than ``seconds``."""
        return httpx.Timeout(
            connect=min(self.connect, seconds),
            read=min(self.read, seconds),
            write=min(self.write, seconds),
            pool=min(self.pool, seconds),
        )


def _on_request(request: httpx.Request) -> None:
    request.extensions[_STARTED] = time.perf_counter()


def _observer(service: str, quiet: bool) -> Any:
    log = logger.debug if quiet else logger.info

    def on_response(response: httpx.Response) -> None:
        request = response.request
        latency_ms = (time.perf_counter() - request.extensions[_STARTED]) * 1000
        log(
            "provider response",
            extra={
                "provider": service,
                "method": request.method,
                "host": request.url.host,
                "path": request.url.path,
                "status_code": response.status_code,
                "latency_ms": round(latency_ms, 1),
            },
        )
        if response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
            emit("ProviderThrottled", provider=service)
        emit(
            "ProviderLatency",
            latency_ms,
            MetricUnit.Milliseconds,
            provider=service,
            status_class=f"{response.status_code // 100}xx",
        )

    return on_response


def observe(client: httpx.Client, service: str, *, quiet: bool = False) -> httpx.Client:
    """Log and measure every response ``client`` receives (also for clients an SDK builds)."""
    client.event_hooks = {
        "request": [*client.event_hooks["request"], _on_request],
        "response": [*client.event_hooks["response"], _observer(service, quiet)],
    }
    return client


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The container's one verifying TLS context, as httpx makes it (certifi, or ``SSL_CERT_FILE``).

    Shared: each httpx client would otherwise load the CA bundle again, about 50 ms of a cold start per client.
    """
    return httpx.create_ssl_context()


def http_client(
    service: str,
    *,
    base_url: str,
    timeouts: Timeouts = Timeouts(),
    headers: dict[str, str] | None = None,
    quiet: bool = False,
) -> httpx.Client:
    """A client for ``service`` at ``base_url``; its owner keeps it so warm invocations reuse its connections.

    ``headers`` are sent on every request (no secrets here: the client outlives
    a rotated key; pass credentials per request). ``quiet`` logs each response
    at debug instead of info (for chatty internal stores); metrics are the same.
    """
    return observe(
        httpx.Client(
            base_url=base_url,
            timeout=timeouts.as_httpx(),
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            verify=tls_context(),
        ),
        service,
        quiet=quiet,
    )


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    service: str,
    timeouts: Timeouts = Timeouts(),
    **kwargs: Any,
) -> httpx.Response:
    """Send one request and return the response, whatever its status.

    The request's timeouts never reach past the invocation's deadline.
    Timeouts raise :class:`ProviderTimeoutError`, other transport failures a
    retryable :class:`IntegrationError`; with no time left nothing is sent
    (:class:`DeadlineExceededError`).
    """
    deadline = current_deadline()
    timeout = timeouts.as_httpx()
    if deadline is not None:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise DeadlineExceededError(service)
        timeout = timeouts.bounded_by(remaining)
    try:
        return client.request(method, url, timeout=timeout, **kwargs)
    except httpx.TimeoutException as error:
        raise ProviderTimeoutError(service, cause=error) from error
    except httpx.TransportError as error:
        raise IntegrationError(service, "connection failed", retryable=True, cause=error) from error


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    service: str,
    timeouts: Timeouts = Timeouts(),
    advice_headers: Iterable[str] = (),
    **kwargs: Any,
) -> httpx.Response:
    """:func:`send`, returning only a 2xx response; any other raises what :func:`error_from_response` says."""
    response = send(client, method, url, service=service, timeouts=timeouts, **kwargs)
    if response.is_success:
        return response
    raise error_from_response(service, response, advice_headers)
