"""A webhook receiver's one route, answered without loading Powertools' event handler.

A receiver has one POST route that API Gateway alone routes to it, so it
needs no router, no request validation and no OpenAPI machinery at run time:
Powertools' event handler would add about a quarter of its cold start (see
docs/benchmarks.md). :class:`WebhookReceiver` reads the delivery, refuses a
body over the size limit (413), runs the receive function and answers 200, or
problem+json through the same mapping as the API actions
(:mod:`seawall.problems`). The OpenAPI document is still generated from the
same route: :meth:`WebhookReceiver.get_openapi_json_schema` builds the
actions' resolver only when the document is asked for.
"""

from __future__ import annotations

import inspect
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from seawall.api import raw_body
from seawall.problems import Problem, ProblemError, oversized, problem_for, problem_response, proxy_response


@dataclass(frozen=True)
class Delivery:
    """What a receiver reads of a delivery: the raw body, the headers (names lower-cased), path parameters."""

    payload: bytes
    headers: dict[str, str]
    path: dict[str, str]
    request_id: str

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Delivery:
        """The delivery in an API Gateway (REST, proxy) event; a body that is not valid base64 is a 400."""
        return cls(
            payload=_raw_body(event),
            headers={str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()},
            path={str(name): str(value) for name, value in (event.get("pathParameters") or {}).items()},
            # API Gateway always gives one; a direct invocation may not, and the queue needs a correlation id.
            request_id=str((event.get("requestContext") or {}).get("requestId") or uuid.uuid4()),
        )


def _raw_body(event: Mapping[str, Any]) -> bytes:
    """The body exactly as the provider sent it; a body that says it is base64 and is not is a 400."""
    body = raw_body(event)
    if body is None:
        raise ProblemError(Problem(400, "malformed", "the request body is not valid base64"))
    return body


Receive = Callable[[Delivery], None]


class WebhookReceiver:
    """``POST rule`` (``/webhooks/<provider>``: Powertools' rule syntax) answered by one receive function."""

    def __init__(self, rule: str, responses: dict[int, Any]) -> None:
        self.rule = rule
        self.responses = responses
        self._receive: Receive | None = None

    def post(self, receive: Receive) -> Receive:
        """Register the receive function (a decorator): it raises to refuse, returns to acknowledge."""
        self._receive = receive
        return receive

    def resolve(self, event: Mapping[str, Any], context: object) -> dict[str, Any]:
        """The API Gateway response: 200 ``{"received": true}``, or problem+json."""
        if self._receive is None:
            raise RuntimeError(f"no receive function registered for {self.rule}")
        request_id = str((event.get("requestContext") or {}).get("requestId") or "") or None
        if str(event.get("httpMethod") or "POST").upper() != "POST":
            refusal = Problem(405, "http", "use POST", headers={"Allow": "POST"})
            return problem_response(refusal, None, request_id)
        try:
            delivery = Delivery.from_event(event)
            problem = oversized(delivery.payload)
            if problem is not None:
                return problem_response(problem, None, request_id)
            self._receive(delivery)
        except Exception as error:  # noqa: BLE001 (every failure is answered as problem+json, as the resolver does)
            return problem_response(problem_for(error), error, request_id)
        body = json.dumps({"received": True}, separators=(",", ":"))
        return proxy_response(200, body, {"Content-Type": "application/json"})

    def get_openapi_json_schema(self, **options: Any) -> str:
        """The route's OpenAPI document, as the API actions' is generated (loaded only now)."""
        from seawall.api import ActionRouter  # noqa: PLC0415 (documentation only: never on the cold path)

        def documented(**_: str) -> dict[str, bool]:
            return {"received": True}

        documented.__name__ = getattr(self._receive, "__name__", "receive")  # the operationId's stem
        # The route's path parameters, as the router reads them from the handler's signature.
        names = re.findall(r"<(\w+)>", self.rule)
        documented.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=str) for name in names],
            return_annotation=dict[str, bool],
        )
        documented.__annotations__ = {**dict.fromkeys(names, str), "return": dict[str, bool]}
        app = ActionRouter()
        app.post(self.rule, responses=self.responses)(documented)
        return app.get_openapi_json_schema(**options)
