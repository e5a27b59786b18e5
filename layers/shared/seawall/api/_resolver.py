"""The resolver every API action uses: early refusals, a route table of its own, errors as problem+json."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.api._problems import problem_response
from seawall.problems import oversized, proxy_response


def _body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except (binascii.Error, ValueError):
            return b"\xff"  # not base64 either: certainly not UTF-8 JSON
    return str(body).encode("utf-8", errors="surrogatepass")


def _is_json(event: Mapping[str, Any]) -> bool:
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "application/json").split(";", 1)[0].strip().lower()
    return media_type == "application/json"


class ActionResolver(APIGatewayRestResolver):
    """Powertools' REST resolver that refuses what no handler should parse, before anything parses it.

    Every resolver refuses bodies over MAX_BODY_BYTES (413). With ``json_only``
    (the actions that validate a JSON body) a body must also be UTF-8 JSON: a
    non-UTF-8 body is 400, another media type 415 (Powertools would otherwise
    parse forms too, or fail with a 500). The checks sit in ``resolve`` because
    Powertools runs request validation before any middleware.
    """

    def __init__(self, *, json_only: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.json_only = json_only
        # Powertools answers 404 for a known path with another method; this table turns it into 405.
        self._methods: list[tuple[re.Pattern[str], str]] = []
        self.exception_handler(Exception)(self._answer)

    def route(self, rule: str, method: str | list[str] | tuple[str], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        """Register a route as Powertools does, and remember its methods for 405 answers."""
        self.allow(rule, *((method,) if isinstance(method, str) else method))
        return super().route(rule, method, *args, **kwargs)

    def allow(self, rule: str, *methods: str) -> None:
        """Name ``methods`` in 405 answers at ``rule`` (a route's own, or another function's on the same path)."""
        pattern = re.compile("^" + re.sub(r"<\w+>", "[^/]+", re.escape(rule)) + "$")  # <name>: one segment
        self._methods += [(pattern, method.upper()) for method in methods]

    def allowed_methods(self, path: str) -> list[str]:
        """The methods some route accepts at ``path`` (empty for an unknown path)."""
        return sorted({method for pattern, method in self._methods if pattern.match(path)})

    def _answer(self, error: Exception) -> Response[str]:
        event = self.current_event
        request_id = (event.raw_event.get("requestContext") or {}).get("requestId")
        if isinstance(error, NotFoundError):
            allowed = self.allowed_methods(event.path)
            if allowed:
                response = problem_response(ServiceError(405, f"use {', '.join(allowed)}"), request_id)
                response.headers["Allow"] = ", ".join(allowed)
                return response
            error = ServiceError(404, "no such route")
        return problem_response(error, request_id)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Answer 413, 415 or 400 for a body no handler should see; otherwise resolve as Powertools does."""
        body = _body(event)
        problem = oversized(body)
        if problem is not None:
            return self._refuse(event, problem.status, problem.detail)
        if self.json_only and body:
            if not _is_json(event):
                return self._refuse(event, 415, "send the body as application/json")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                return self._refuse(event, 400, "the request body is not UTF-8 text")
            if _too_deep(text):
                return self._refuse(event, 400, "the request body is nested too deeply")
        return super().resolve(event, context)

    @staticmethod
    def _refuse(event: Mapping[str, Any], status: int, detail: str) -> dict[str, Any]:
        request_id = (event.get("requestContext") or {}).get("requestId")
        response = problem_response(ServiceError(status, detail), request_id)
        headers = {"Content-Type": response.content_type or "", **response.headers}
        return proxy_response(response.status_code, str(response.body), headers)


# Deeper than any request of ours; far below the depth at which a JSON parser runs out of stack.
MAX_JSON_DEPTH = 64


def _too_deep(text: str) -> bool:
    """Whether the JSON text opens more than MAX_JSON_DEPTH arrays or objects at once (strings skipped).

    Counted, not parsed: a parser would raise RecursionError (a 500) before saying so. Most bodies open
    fewer brackets in all than the limit, which two C-speed counts tell without a walk in Python.
    """
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def create_resolver(**options: Any) -> ActionResolver:
    """A REST API resolver (``options`` as Powertools takes them) answering every error as problem+json.

    With ``enable_validation=True`` (the actions), bodies must be UTF-8 JSON.
    """
    return ActionResolver(json_only=bool(options.get("enable_validation")), **options)
