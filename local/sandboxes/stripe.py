"""A Stripe sandbox: the endpoints the bundle uses, in Stripe's wire format, with fault injection.

Form-encoded requests (``metadata[key]=value``), Stripe-shaped JSON objects
(built on Stripe's own example objects) and error bodies, ``Request-Id``
headers, list pagination (``limit``, ``starting_after``, ``has_more``), and
Idempotency-Key replay: the same key with the same parameters answers the
first response again; with other parameters, Stripe's idempotency error.

Faults, per test (``sandbox.faults``) or per run (``POST /_sandbox/faults``):
added latency, the fault plan every sandbox shares (``local.sandboxes.faults``:
one-off faults queued and random rules, each for a method and path; an error
with Stripe's advice is :func:`stripe_fault`), and a rate limit in requests
per second over any sliding second (``GET /_sandbox/faults`` says how many
requests it refused).

The Events API as Stripe serves it: newest first in creation order (events of
the same second too; the ``shuffle_ties`` fault lists each second's events in
a random, fixed order instead), ``created[gt|gte|lt|lte]``,
``starting_after`` and ``ending_before`` paging, ``delivery_success=false``.
With a webhook endpoint configured (``POST /_sandbox/webhooks`` with
``{"url", "secret", "drop"}``, or ``{"drop"}`` alone to change the share
dropped) every new event is delivered to it, signed as
Stripe signs, except a ``drop`` fraction chosen at random: those, and any
delivery answered with an error, are listed by ``delivery_success=false``.
``POST /_sandbox/events`` with ``{"customers": n}`` makes n customers (and
their ``customer.created`` events) at once.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import operator
import queue
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

import httpx
import stripe

from local.httpserver import Answer, Handler, LocalServer, Sandbox, problem
from local.sandboxes import LocalProvider
from local.sandboxes.faults import Fault, FaultPlan, faulted

FIXTURES = json.loads((Path(__file__).parent / "stripe_fixtures.json").read_text())
API_VERSION = "2026-10-28.endive"
# A payment method that Stripe's test mode declines, as its docs describe.
DECLINED_PAYMENT_METHOD = "pm_card_chargeDeclined"


def stripe_fault(status: int, *, should_retry: bool | None = None, retry_after: float | None = None) -> Fault:
    """An error answer with the advice Stripe sends with it (``Stripe-Should-Retry``, ``Retry-After``)."""
    headers = {}
    if should_retry is not None:
        headers["Stripe-Should-Retry"] = str(should_retry).lower()
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Fault(status=status, headers=headers)


@dataclass
class Faults:
    """What the sandbox does wrong, and how often: the shared fault plan, latency, a rate limit, ties shuffled."""

    latency: float = 0.0
    plan: FaultPlan = field(default_factory=FaultPlan)
    requests_per_second: int | None = None
    shuffle_ties: bool = False


@dataclass(frozen=True)
class WebhookEndpoint:
    """Where the sandbox delivers events, the secret it signs with, and the fraction it drops."""

    url: str
    secret: str
    drop: float = 0.0


class StripeError(Exception):
    """An error answer in Stripe's shape."""

    def __init__(self, status: int, error_type: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": error_type, "message": message, **details}}


def _form(body: bytes) -> dict[str, Any]:
    """Stripe's form encoding: ``a=1&metadata[k]=v&items[0][x]=y`` as nested dicts (one level deep)."""
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        if "[" in key:
            outer, inner = key.split("[", 1)
            params.setdefault(outer, {})[inner.rstrip("]")] = value
        else:
            params[key] = value
    return params


def _api_key(authorization: str) -> str:
    """The key a request carries, as Stripe takes it: a bearer token, or HTTP Basic's user (``curl -u sk_...:``)."""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return credentials
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credentials, validate=True).decode().partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            return ""
    return ""


def _object_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(7)}"


class StripeSandbox(Sandbox):
    """The sandbox server on 127.0.0.1; ``api_keys`` are the keys it accepts (rotate them in tests)."""

    def __init__(self, api_keys: set[str], port: int = 0) -> None:
        self.api_keys = set(api_keys)
        self.faults = Faults()
        # Stripe's example customer, which the sample events in events/ name.
        self.customers: dict[str, dict[str, Any]] = {FIXTURES["customer"]["id"]: copy.deepcopy(FIXTURES["customer"])}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        # Each object's place among those of its second: (creation order, a random rank for shuffle_ties).
        self._ties: dict[str, tuple[int, float]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path, headers
        self._idempotency: dict[tuple[str, str], tuple[str, int, dict[str, Any]]] = {}
        self._window: deque[float] = deque()
        self._lock = threading.Lock()
        self.webhook: WebhookEndpoint | None = None
        self.throttled = 0  # requests refused with 429 by the rate limit (faults not counted)
        self.undelivered: set[str] = set()
        self._deliveries: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._deliver_forever, name="stripe-sandbox-webhooks", daemon=True).start()
        self._server = LocalServer(("127.0.0.1", port), self._handler_class())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    # The API ------------------------------------------------------------------------------

    def _event(self, kind: str, obj: dict[str, Any]) -> None:
        event = copy.deepcopy(FIXTURES["event"])
        event.update(
            id=_object_id("evt"),
            type=kind,
            created=int(time.time()),
            data={"object": copy.deepcopy(obj)},
            api_version=API_VERSION,
        )
        self._created(event)
        self.events.append(event)
        if self.webhook is not None:
            self._deliveries.put(event)

    def _created(self, obj: dict[str, Any]) -> None:
        """Note an object's place among those created in its second."""
        self._ties[obj["id"]] = (len(self._ties), random.random())  # noqa: S311 (an order, not a secret)

    def _tie(self, obj: dict[str, Any]) -> float:
        tie = self._ties.get(obj["id"], (-1, 0.0))
        return tie[1] if self.faults.shuffle_ties else tie[0]

    def _deliver_forever(self) -> None:
        """Deliver queued events one at a time, in order, as Stripe's webhook sender would."""
        with httpx.Client(timeout=10) as client:
            while True:
                event = self._deliveries.get()
                try:
                    self._deliver(client, event)
                finally:
                    self._deliveries.task_done()

    def _deliver(self, client: httpx.Client, event: dict[str, Any]) -> None:
        endpoint = self.webhook
        if endpoint is None or random.random() < endpoint.drop:  # noqa: S311 (a simulated loss, not crypto)
            self.undelivered.add(event["id"])
            return
        payload = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(payload, endpoint.secret, int(time.time()))
        try:
            answer = client.post(
                endpoint.url, content=payload, headers={"Content-Type": "application/json", "Stripe-Signature": header}
            )
            delivered = answer.is_success
        except httpx.HTTPError:
            delivered = False
        if not delivered:
            self.undelivered.add(event["id"])

    def reset(self) -> None:
        """Forget every object, event, request and fault: an account with nothing in it (Stripe's example customer)."""
        with self._lock:
            self.customers = {FIXTURES["customer"]["id"]: copy.deepcopy(FIXTURES["customer"])}
            for kept in (self.payment_intents, self.charges, self._ties, self._idempotency):
                kept.clear()
            self.events.clear()
            self.requests.clear()
            self.undelivered.clear()
            self.faults = Faults()
            self.throttled = 0

    def deliveries(self) -> dict[str, int]:
        """How many events wait to be delivered, and how many were not."""
        return {"pending": self._deliveries.unfinished_tasks, "undelivered": len(self.undelivered)}

    def make_customers(self, count: int) -> list[str]:
        """``count`` new customers, each with its ``customer.created`` event (delivered if an endpoint is set)."""
        with self._lock:
            return [self._write_customer({"email": f"bulk{index}@example.com"}, None)["id"] for index in range(count)]

    def _customer(self, customer_id: str, *, referenced: bool = False) -> dict[str, Any]:
        """The customer; Stripe answers 404 for the object asked for, 400 for one a parameter names."""
        customer = self.customers.get(customer_id)
        if customer is None:
            status, param = (400, "customer") if referenced else (404, "id")
            raise StripeError(
                status,
                "invalid_request_error",
                f"No such customer: '{customer_id}'",
                code="resource_missing",
                param=param,
            )
        return customer

    def _write_customer(self, params: dict[str, Any], customer: dict[str, Any] | None) -> dict[str, Any]:
        unknown = set(params) - {"email", "name", "description", "phone", "metadata"}
        if unknown:
            raise StripeError(
                400,
                "invalid_request_error",
                f"Received unknown parameter: {sorted(unknown)[0]}",
                code="parameter_unknown",
                param=sorted(unknown)[0],
            )
        if customer is None:
            customer = copy.deepcopy(FIXTURES["customer"])
            customer.update(id=_object_id("cus"), created=int(time.time()), email=None, name=None, metadata={})
            self._created(customer)
            self.customers[customer["id"]] = customer
            kind = "customer.created"
        else:
            kind = "customer.updated"
        metadata = params.pop("metadata", None)
        customer.update({key: value or None for key, value in params.items()})
        if metadata is not None:
            customer["metadata"] = {**customer["metadata"], **metadata}
            customer["metadata"] = {key: value for key, value in customer["metadata"].items() if value != ""}
        self._event(kind, customer)
        return customer

    def _create_payment_intent(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        amount = params.get("amount", "")
        if not amount.isdigit() or int(amount) < 1:
            raise StripeError(
                400,
                "invalid_request_error",
                "Invalid positive integer",
                param="amount",
                code="parameter_invalid_integer",
            )
        currency = params.get("currency", "")
        if len(currency) != 3 or not currency.isalpha():  # noqa: PLR2004
            raise StripeError(
                400, "invalid_request_error", "Invalid currency", param="currency", code="parameter_invalid_string"
            )
        if params.get("customer"):
            self._customer(params["customer"], referenced=True)
        intent = copy.deepcopy(FIXTURES["payment_intent"])
        intent.update(
            id=_object_id("pi"),
            amount=int(amount),
            currency=currency.lower(),
            customer=params.get("customer"),
            metadata=params.get("metadata", {}),
            created=int(time.time()),
            status="requires_payment_method",
            canceled_at=None,
            last_payment_error=None,
            next_action=None,
        )
        intent["client_secret"] = f"{intent['id']}_secret_{secrets.token_hex(8)}"
        self.payment_intents[intent["id"]] = intent
        self._event("payment_intent.created", intent)
        if params.get("confirm") == "true":
            self._confirm(intent, params.get("payment_method"))
        return 200, intent

    def _payment_intent(self, intent_id: str) -> dict[str, Any]:
        intent = self.payment_intents.get(intent_id)
        if intent is None:
            raise StripeError(
                404,
                "invalid_request_error",
                f"No such payment_intent: '{intent_id}'",
                code="resource_missing",
                param="intent",
            )
        return intent

    def _refuse_state(self, intent: dict[str, Any], action: str) -> None:
        raise StripeError(
            400,
            "invalid_request_error",
            f"You cannot {action} this PaymentIntent because it has a status of {intent['status']}.",
            code="payment_intent_unexpected_state",
        )

    def _confirm(self, intent: dict[str, Any], payment_method: str | None) -> dict[str, Any]:
        """A confirmation: declined (``payment_failed``, 402) or paid (``succeeded``, with its charge)."""
        if intent["status"] in ("succeeded", "canceled"):
            self._refuse_state(intent, "confirm")
        if payment_method == DECLINED_PAYMENT_METHOD:
            intent.update(
                status="requires_payment_method",
                last_payment_error={"type": "card_error", "code": "card_declined", "decline_code": "generic_decline"},
            )
            self._event("payment_intent.payment_failed", intent)
            raise StripeError(
                402,
                "card_error",
                "Your card was declined.",
                code="card_declined",
                decline_code="generic_decline",
                payment_intent=intent,
            )
        charge = copy.deepcopy(FIXTURES["charge"])
        charge.update(
            id=_object_id("ch"),
            amount=intent["amount"],
            amount_refunded=0,
            refunded=False,
            currency=intent["currency"],
            payment_intent=intent["id"],
            customer=intent["customer"],
            created=int(time.time()),
            captured=True,
        )
        self.charges[charge["id"]] = charge
        intent.update(status="succeeded", last_payment_error=None, latest_charge=charge["id"])
        self._event("payment_intent.succeeded", intent)
        return intent

    def _cancel(self, intent: dict[str, Any]) -> dict[str, Any]:
        if intent["status"] in ("succeeded", "canceled"):
            self._refuse_state(intent, "cancel")
        intent.update(status="canceled", canceled_at=int(time.time()))
        self._event("payment_intent.canceled", intent)
        return intent

    def _refund(self, params: dict[str, Any]) -> dict[str, Any]:
        """A refund of a paid payment intent (all that is left, or ``amount``): its charge's ``charge.refunded``."""
        intent = self._payment_intent(params.get("payment_intent", ""))
        charge = self.charges.get(intent.get("latest_charge") or "")
        if charge is None:
            raise StripeError(
                400, "invalid_request_error", "This PaymentIntent does not have a successful charge to refund."
            )
        left = charge["amount"] - charge["amount_refunded"]
        amount = int(params.get("amount", left))
        if not 0 < amount <= left:
            raise StripeError(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                param="amount",
            )
        charge.update(amount_refunded=charge["amount_refunded"] + amount, refunded=amount == left)
        refund: dict[str, Any] = copy.deepcopy(FIXTURES["refund"])
        refund.update(
            id=_object_id("re"),
            amount=amount,
            charge=charge["id"],
            payment_intent=intent["id"],
            currency=charge["currency"],
            created=int(time.time()),
            status="succeeded",
        )
        self._event("charge.refunded", charge)
        return refund

    def _list(self, items: list[dict[str, Any]], query: dict[str, str], path: str) -> dict[str, Any]:
        limit = min(max(int(query.get("limit", "10")), 1), 100)
        ordered = sorted(items, key=lambda item: (item["created"], self._tie(item)), reverse=True)
        bounds: dict[str, Callable[[int, int], bool]] = {
            "gt": operator.gt,
            "gte": operator.ge,
            "lt": operator.lt,
            "lte": operator.le,
        }
        for bound, keep in bounds.items():
            if f"created[{bound}]" in query:
                value = int(query[f"created[{bound}]"])
                ordered = [item for item in ordered if keep(item["created"], value)]
        if "type" in query:
            ordered = [item for item in ordered if item.get("type") == query["type"]]
        if query.get("delivery_success") == "false":
            ordered = [item for item in ordered if item["id"] in self.undelivered]
        ids = [item["id"] for item in ordered]
        if "starting_after" in query:
            if query["starting_after"] not in ids:
                raise StripeError(400, "invalid_request_error", "Invalid starting_after", param="starting_after")
            ordered = ordered[ids.index(query["starting_after"]) + 1 :]
        elif "ending_before" in query:
            # The page just newer than the given object, still newest first.
            if query["ending_before"] not in ids:
                raise StripeError(400, "invalid_request_error", "Invalid ending_before", param="ending_before")
            newer = ordered[: ids.index(query["ending_before"])]
            return {"object": "list", "data": newer[-limit:], "has_more": len(newer) > limit, "url": path}
        return {"object": "list", "data": ordered[:limit], "has_more": len(ordered) > limit, "url": path}

    def route(  # noqa: PLR0911, PLR0912 (one answer per endpoint)
        self, method: str, path: str, query: dict[str, str], params: dict[str, Any]
    ) -> tuple[int, Any]:
        """Answer one authenticated API request (status, JSON body)."""
        parts = [part for part in path.split("/") if part]
        match method, parts:
            case "POST", ["v1", "customers"]:
                return 200, self._write_customer(params, None)
            case "GET", ["v1", "customers"]:
                live = [c for c in self.customers.values() if not c.get("deleted")]
                return 200, self._list(live, query, path)
            case "GET", ["v1", "customers", customer_id]:
                customer = self._customer(customer_id)
                return 200, (
                    {"id": customer_id, "object": "customer", "deleted": True} if customer.get("deleted") else customer
                )
            case "POST", ["v1", "customers", customer_id]:
                return 200, self._write_customer(params, self._customer(customer_id))
            case "DELETE", ["v1", "customers", customer_id]:
                customer = self._customer(customer_id)
                customer["deleted"] = True
                self._event("customer.deleted", customer)
                return 200, {"id": customer_id, "object": "customer", "deleted": True}
            case "POST", ["v1", "payment_intents"]:
                return self._create_payment_intent(params)
            case "GET", ["v1", "payment_intents", intent_id]:
                return 200, self._payment_intent(intent_id)
            case "POST", ["v1", "payment_intents", intent_id, "confirm"]:
                return 200, self._confirm(self._payment_intent(intent_id), params.get("payment_method"))
            case "POST", ["v1", "payment_intents", intent_id, "cancel"]:
                return 200, self._cancel(self._payment_intent(intent_id))
            case "POST", ["v1", "refunds"]:
                return 200, self._refund(params)
            case "GET", ["v1", "events"]:
                return 200, self._list(self.events, query, path)
            case "GET", ["v1", "events", event_id]:
                for event in self.events:
                    if event["id"] == event_id:
                        return 200, event
                raise StripeError(
                    404, "invalid_request_error", f"No such event: '{event_id}'", code="resource_missing", param="id"
                )
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    # HTTP ---------------------------------------------------------------------------------

    def _rate_limited(self) -> bool:
        limit = self.faults.requests_per_second
        if limit is None:
            return False
        now = time.monotonic()
        while self._window and self._window[0] <= now - 1:
            self._window.popleft()
        if len(self._window) >= limit:
            return True
        self._window.append(now)
        return False

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer | None:
        """One request in, (status, headers, body) out; ``None`` drops the connection (a reset fault)."""
        url = urlsplit(target)
        request_id = _object_id("req")
        answer_headers = {"Content-Type": "application/json", "Request-Id": request_id, "Stripe-Version": API_VERSION}
        with self._lock:
            self.requests.append((method, url.path, headers))
            fault = self.faults.plan.draw(method, url.path)
            limited = self._rate_limited()
            self.throttled += limited
        if self.faults.latency:
            time.sleep(self.faults.latency)
        if limited:
            error = {"error": {"type": "rate_limit_error", "message": "Too many requests"}}
            return 429, answer_headers, json.dumps(error).encode()

        def refuse(status: int) -> Answer:
            kind = "rate_limit_error" if status == 429 else "api_error"  # noqa: PLR2004
            return status, answer_headers, json.dumps({"error": {"type": kind, "message": "Injected failure"}}).encode()

        return faulted(fault, lambda: self._perform(method, url, headers, body, answer_headers), refuse)

    def _perform(
        self, method: str, url: SplitResult, headers: dict[str, str], body: bytes, answer_headers: dict[str, str]
    ) -> Answer:
        """The request itself: the key checked, an Idempotency-Key replayed or refused, the route answered."""
        token = _api_key(headers.get("Authorization", ""))
        if token not in self.api_keys:
            error = {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}
            return 401, answer_headers, json.dumps(error).encode()
        params = _form(body)
        query = dict(parse_qsl(url.query))
        key = headers.get("Idempotency-Key")
        fingerprint = hashlib.sha256(body).hexdigest()
        with self._lock:
            if key is not None and method == "POST":
                stored = self._idempotency.get((token, key))
                if stored is not None:
                    if stored[0] != f"{url.path}:{fingerprint}":
                        error = {
                            "error": {
                                "type": "idempotency_error",
                                "message": (
                                    "Keys for idempotent requests can only be used with the same parameters they were "
                                    "first used with. Try using a key other than '" + key + "' if you meant to execute "
                                    "a different request."
                                ),
                            }
                        }
                        return 400, answer_headers, json.dumps(error).encode()
                    return stored[1], {**answer_headers, "Idempotent-Replayed": "true"}, json.dumps(stored[2]).encode()
            try:
                status, result = self.route(method, url.path, query, params)
            except StripeError as error:
                status, result = error.status, error.body
            if key is not None and method == "POST":
                self._idempotency[(token, key)] = (f"{url.path}:{fingerprint}", status, copy.deepcopy(result))
        return status, answer_headers, json.dumps(result).encode()

    def control(self, method: str, path: str, spec: dict[str, Any]) -> Answer:
        """Answer a ``/_sandbox/...`` request; raises ValueError, KeyError or TypeError on a bad one (a 400)."""
        match method, path:
            case "POST", "/_sandbox/faults":
                self.configure_faults(spec)
            case "GET", "/_sandbox/faults":
                return 200, {"Content-Type": "application/json"}, json.dumps(self.fault_report()).encode()
            case "POST", "/_sandbox/webhooks":
                self.configure_webhook(spec)
            case "GET", "/_sandbox/webhooks":
                return 200, {"Content-Type": "application/json"}, json.dumps(self.deliveries()).encode()
            case "POST", "/_sandbox/events":
                made = self.make_customers(int(spec.get("customers", 0)))
                return 200, {"Content-Type": "application/json"}, json.dumps({"customers": made}).encode()
            case _:
                return problem(404, f"no sandbox control at {method} {path}")
        return 204, {}, b""

    def serve_api(self, request: Handler, body: bytes) -> Answer | None:
        """A Stripe API request through :meth:`handle`."""
        return self.handle(request.command, request.path, dict(request.headers.items()), body)

    def configure_webhook(self, spec: dict[str, Any]) -> None:
        """Set the endpoint from JSON: ``{"url", "secret", "drop"}``, or ``{"drop"}`` alone; ``{}`` removes it."""
        current = self.webhook
        if current is not None and spec and "url" not in spec:
            self.webhook = replace(current, **spec)
        else:
            self.webhook = WebhookEndpoint(**spec) if spec else None

    def fault_report(self) -> dict[str, Any]:
        """The faults set, and how many requests the rate limit refused with 429 so far."""
        return {
            "latency": self.faults.latency,
            "requests_per_second": self.faults.requests_per_second,
            "queued": len(self.faults.plan.queue),
            "shuffle_ties": self.faults.shuffle_ties,
            "throttled": self.throttled,
        }

    def configure_faults(self, spec: dict[str, Any]) -> None:
        """Set faults from JSON: latency, a rate limit, ties shuffled, and the shared plan's queue and rules.

        ``{"latency": 0.2, "requests_per_second": 5, "shuffle_ties": true, "queue": [], "rules": []}``
        (queue and rules as ``FaultPlan.from_spec`` reads them). Raises ValueError for a setting it does
        not know (a typo would otherwise inject nothing, silently).
        """
        unknown = set(spec) - {"latency", "requests_per_second", "shuffle_ties", "queue", "rules"}
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        self.faults = Faults(
            latency=float(spec.get("latency", 0)),
            plan=FaultPlan.from_spec(spec),
            requests_per_second=spec.get("requests_per_second"),
            shuffle_ties=bool(spec.get("shuffle_ties", False)),
        )


def _start(secret_values: Mapping[str, Any], parameters: Mapping[str, str], port: int) -> StripeSandbox:
    sandbox = StripeSandbox({secret_values["StripeSecret"]["api_key"]}, port)
    sandbox.start()
    return sandbox


def _connect(sandbox: StripeSandbox, gateway: str, secret_values: Mapping[str, Any]) -> None:
    if "StripeWebhookSecret" in secret_values:
        # Stripe's webhook sender: the sandbox delivers each new event to the gateway, signed.
        sandbox.webhook = WebhookEndpoint(
            f"{gateway}/webhooks/stripe", secret_values["StripeWebhookSecret"]["webhook_secrets"][0]
        )


PROVIDER = LocalProvider(
    name="stripe",
    default_port=12111,
    secrets={
        "StripeSecret": lambda: {"api_key": f"sk_test_local{secrets.token_hex(12)}"},
        "StripeWebhookSecret": lambda: {
            "webhook_secrets": [f"whsec_{base64.b64encode(secrets.token_bytes(24)).decode()}"],
        },
    },
    start=_start,
    environment=lambda sandbox: {"STRIPE_API_BASE": sandbox.url},
    describe=lambda sandbox, parameters: (
        f"Stripe sandbox: {sandbox.url}  (inject faults: POST {sandbox.url}/_sandbox/faults; it delivers each new"
        f" event to /webhooks/stripe, dropping a share on request: POST {sandbox.url}/_sandbox/webhooks)"
    ),
    # Test mode's 25 requests a second would make the suite's pace matter; the limiter has its own tests.
    test_environment={"STRIPE_REQUESTS_PER_SECOND": "1000"},
    connect=_connect,
)
