"""A provider's REST API in memory, for the sandboxes of providers made by `make provider`.

Each generated sandbox names its actions (``"GET /widgets/{widget_id}"``) and
says how a request authenticates and how a webhook is signed; this serves them:

- ``POST`` on a collection creates an object (``{"id": ..., **body}``), once per
  ``Idempotency-Key`` (the same key with another body: 409); ``GET`` lists it
  (``{"data": [...]}``). On an object, ``GET`` reads, ``PUT`` replaces,
  ``PATCH`` and ``POST`` merge, ``DELETE`` deletes; an unknown id is 404.
- The objects the sample events name (``sample_<parameter>``) always exist.
- Errors look like ``{"error": {"code": "...", "message": "..."}}``.
- Control: ``POST /_sandbox/faults`` (``{"latency": s, "queue": [...], "rules": [...]}``,
  see ``local.sandboxes.faults``), ``GET /_sandbox/faults``, ``GET /_sandbox/objects``,
  ``GET /_sandbox/requests``, ``POST /_sandbox/webhooks`` (``{"url": ...}``),
  ``POST /_sandbox/events`` (``{"type", "data"}``: deliver one), ``GET /_sandbox/deliveries``,
  ``POST /_sandbox/reset``.
- With a webhook URL set, every object created is delivered as an event
  (``<collection>.created``), signed by the sandbox's ``sign``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from local.httpserver import Answer, Handler, LocalServer, Sandbox, problem
from local.sandboxes.faults import FaultPlan, faulted

JSON_TYPE = "application/json"
_PARAMETER = re.compile(r"\{([a-z0-9_]+)\}")


def _json(value: Any, status: int = 200) -> Answer:
    return status, {"Content-Type": JSON_TYPE}, json.dumps(value).encode()


def _error(status: int, code: str, message: str) -> Answer:
    return _json({"error": {"code": code, "message": message}}, status)


@dataclass(frozen=True)
class Route:
    """One action of the provider: its method and path template, as a pattern."""

    method: str
    template: str

    @property
    def pattern(self) -> re.Pattern[str]:
        """The path template as a regular expression (a parameter is one segment)."""
        return re.compile("^" + _PARAMETER.sub(r"[^/]+", self.template) + "$")

    @property
    def on_item(self) -> bool:
        """Whether the path ends on one object."""
        return self.template.rsplit("/", 1)[-1].startswith("{")

    @property
    def sample_path(self) -> str:
        """The path the sample events use: each parameter ``sample_<name>``."""
        return _PARAMETER.sub(lambda found: f"sample_{found.group(1)}", self.template)


def standard_webhook_headers(event_id: str, payload: bytes, secret: str) -> dict[str, str]:
    """Standard Webhooks headers signing ``payload`` now (the standardwebhooks library's own signature)."""
    now = dt.datetime.now(dt.UTC)
    signature = Webhook(secret).sign(event_id, now, payload.decode())
    return {"webhook-id": event_id, "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}


def timestamped_hmac(payload: bytes, secret: str) -> str:
    """``t=<now>,v1=<hex HMAC-SHA256 of "<t>." + payload>``: a custom HMAC header's value."""
    now = int(time.time())
    digest = hmac.new(secret.encode(), f"{now}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={now},v1={digest}"


class RestSandbox(Sandbox):
    """The provider's objects in memory behind its actions; subclasses say how requests and webhooks are signed."""

    def __init__(self, actions: Sequence[str], port: int = 0) -> None:
        self.routes = [Route(*action.split(" ", 1)) for action in actions]
        self.samples = {route.sample_path for route in self.routes if route.on_item}
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.answers: dict[str, tuple[str, Answer]] = {}  # Idempotency-Key -> (request, first answer)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.faults = FaultPlan()
        self.latency = 0.0
        self.webhook_url: str | None = None
        self._lock = threading.Lock()
        self._server = LocalServer(("127.0.0.1", port), self._handler_class())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    # What a provider's sandbox says --------------------------------------------------------

    def authorized(self, headers: Mapping[str, str]) -> bool:
        """Whether the request's headers (names in lower case) carry valid credentials."""
        raise NotImplementedError

    def sign(self, event_id: str, payload: bytes) -> dict[str, str]:
        """The headers that sign a webhook delivery (none: the provider sends no webhooks)."""
        return {}

    # The API --------------------------------------------------------------------------------

    def _match(self, method: str, path: str) -> tuple[Route | None, bool]:
        """The route for the request, and whether its path is served at all (for 405 against 404)."""
        served = [route for route in self.routes if route.pattern.match(path)]
        return next((route for route in served if route.method == method), None), bool(served)

    def _object(self, collection: str, object_id: str) -> dict[str, Any] | None:
        path = f"{collection}/{object_id}"
        found = self.objects.get(collection, {}).get(object_id)
        if found is None and path in self.samples:
            found = {"id": object_id, "name": f"Sample {object_id.removeprefix('sample_')}"}
        return found

    def route(self, method: str, path: str, body: bytes, key: str | None) -> Answer:
        """One API request, under the lock."""
        route, served = self._match(method, path)
        if route is None:
            return _error(405 if served else 404, "not_found", f"no route for {method} {path}")
        payload: dict[str, Any] = {}
        if method in ("POST", "PUT", "PATCH"):
            try:
                loaded: Any = json.loads(body)
            except ValueError:
                return _error(400, "invalid_json", "the body is not JSON")
            if not isinstance(loaded, dict):
                return _error(400, "invalid_body", "the body must be a JSON object")
            payload = loaded
        if key is not None and key in self.answers:
            request, answer = self.answers[key]
            same = request == f"{method} {path} {json.dumps(payload, sort_keys=True)}"
            return answer if same else _error(409, "idempotency_key_reused", "the key was used with another request")
        answer = self._act(route, method, path, payload)
        if key is not None and method in ("POST", "PATCH") and answer[0] < 500:  # noqa: PLR2004
            self.answers[key] = (f"{method} {path} {json.dumps(payload, sort_keys=True)}", answer)
        return answer

    def _act(self, route: Route, method: str, path: str, payload: dict[str, Any]) -> Answer:
        if not route.on_item:
            stored = self.objects.setdefault(path, {})
            if method == "GET":
                return _json({"data": list(stored.values())})
            made = {
                **payload,
                "id": f"{path.rsplit('/', 1)[-1][:3]}_{secrets.token_hex(8)}",
                "created": int(time.time()),
            }
            stored[made["id"]] = made
            self._announce(f"{path.rsplit('/', 1)[-1]}.created", made)
            return _json(made, 201)
        collection, object_id = path.rsplit("/", 1)
        found = self._object(collection, object_id)
        if found is None:
            return _error(404, "resource_missing", f"no object {object_id}")
        match method:
            case "GET":
                return _json(found)
            case "DELETE":
                self.objects.get(collection, {}).pop(object_id, None)
                return _json({"id": object_id, "deleted": True})
            case "PUT":
                changed = {**payload, "id": object_id}
            case _:
                changed = {**found, **payload, "id": object_id}
        self.objects.setdefault(collection, {})[object_id] = changed
        return _json(changed)

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer | None:
        """One API request in, (status, headers, body) out; ``None`` drops the connection (``reset``, ``lost``)."""
        path = urlsplit(target).path
        lowered = {name.lower(): value for name, value in headers.items()}
        with self._lock:
            self.requests.append((method, path, dict(headers)))
            latency = self.latency
        if latency:
            time.sleep(latency)
        if not self.authorized(lowered):
            return _error(401, "unauthorized", "missing or invalid credentials")
        with self._lock:
            fault = self.faults.draw(method, path)
        return faulted(
            fault,
            lambda: self._perform(method, path, body, lowered.get("idempotency-key")),
            lambda status: _error(status, "injected", "injected failure"),
        )

    def _perform(self, method: str, path: str, body: bytes, key: str | None) -> Answer:
        with self._lock:
            return self.route(method, path, body, key)

    # Webhooks -------------------------------------------------------------------------------

    def _announce(self, event_type: str, data: dict[str, Any]) -> None:
        """Deliver an event for ``data`` on a thread of its own, if a webhook URL is set."""
        if self.webhook_url is not None:
            event = {
                "id": f"evt_{secrets.token_hex(12)}",
                "type": event_type,
                "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                "data": data,
            }
            threading.Thread(target=self.deliver, args=(event,), daemon=True).start()

    def deliver(self, event: dict[str, Any]) -> int | None:
        """POST one event to the webhook URL, signed; its status (``None``: not delivered)."""
        url = self.webhook_url
        if url is None:
            return None
        payload = json.dumps(event).encode()
        headers = {"Content-Type": JSON_TYPE, **self.sign(str(event["id"]), payload)}
        try:
            status: int | None = httpx.post(url, content=payload, headers=headers, timeout=30).status_code
        except httpx.HTTPError:
            status = None
        with self._lock:
            self.deliveries.append({"id": event["id"], "type": event["type"], "status": status})
        return status

    # Control --------------------------------------------------------------------------------

    def control(self, method: str, path: str, spec: dict[str, Any]) -> Answer:  # noqa: PLR0911 (one answer per endpoint)
        """Answer a ``/_sandbox/...`` request; raises ValueError, KeyError or TypeError on a bad one."""
        match method, path:
            case "POST", "/_sandbox/faults":
                plan = FaultPlan.from_spec(spec)
                with self._lock:
                    self.faults, self.latency = plan, float(spec.get("latency", 0))
            case "GET", "/_sandbox/faults":
                with self._lock:
                    report = {
                        "latency": self.latency,
                        "queued": len(self.faults.queue),
                        "rules": len(self.faults.rules),
                    }
                return _json(report)
            case "GET", "/_sandbox/objects":
                with self._lock:
                    return _json({name: list(stored.values()) for name, stored in self.objects.items()})
            case "GET", "/_sandbox/requests":
                with self._lock:
                    return _json([{"method": method, "path": path} for method, path, _ in self.requests])
            case "GET", "/_sandbox/deliveries":
                with self._lock:
                    return _json(list(self.deliveries))
            case "POST", "/_sandbox/webhooks":
                self.webhook_url = spec.get("url")
            case "POST", "/_sandbox/events":
                event = {"id": f"evt_{secrets.token_hex(12)}", "type": str(spec["type"]), "data": dict(spec["data"])}
                return _json({"id": event["id"], "status": self.deliver(event)})
            case "POST", "/_sandbox/reset":
                self.reset()
            case _:
                return problem(404, f"no sandbox control at {method} {path}")
        return 204, {}, b""

    def reset(self) -> None:
        """Forget objects, answers, requests, deliveries and faults."""
        with self._lock:
            self.objects.clear()
            self.answers.clear()
            self.requests.clear()
            self.deliveries.clear()
            self.faults, self.latency = FaultPlan(), 0.0

    def serve_api(self, request: Handler, body: bytes) -> Answer | None:
        """An API request through :meth:`handle`."""
        return self.handle(request.command, request.path, dict(request.headers.items()), body)


def random_webhook_secret() -> str:
    """A fresh signing secret in the ``whsec_`` + base64 shape Standard Webhooks uses."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
