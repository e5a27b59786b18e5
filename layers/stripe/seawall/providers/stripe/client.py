"""The Stripe client every Stripe function uses: stripe-python's StripeClient behind ProviderCall.

Every call runs through the shared provider wrapper (deadline, retry, breaker,
limiter). The SDK's own retries are off (``max_network_retries=0``) so one
loop decides; POSTs always carry the caller's idempotency key, so a retry
re-sends under the same key and Stripe replays instead of charging twice. On a
401 ProviderCall reads the secret again (a rotated key) before giving up. The
SDK sends through the layer's HTTP client (``_Transport``), so Stripe's
requests are timed, logged and cut to the deadline like any provider's.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import stripe
from stripe import StripeResponse

from seawall.breaker import BreakerConfig
from seawall.config import Secret, load_settings
from seawall.errors import IntegrationError
from seawall.http import Timeouts, http_client, parse_payload, send
from seawall.providers.stripe import SERVICE
from seawall.providers.stripe.errors import stripe_error
from seawall.providers.stripe.models import Customer, DeletedCustomer, PaymentIntent
from seawall.providers.stripe.secrets import StripeSecret
from seawall.providers.stripe.settings import StripeSettings
from seawall.ratelimit import ARRIVAL_ALLOWANCE_SECONDS, Limit
from seawall.resilience import ACTION_RATE_LIMIT_WAIT_SECONDS, ProviderCall, ProviderPolicy
from seawall.state import SharedState

if TYPE_CHECKING:  # typing only: stripe.params loads every parameter type, about 60 ms
    from stripe.params import CustomerCreateParams, EventListParams, PaymentIntentCreateParams


class _Transport(stripe.HTTPClient):
    """stripe-python's public HTTPClient, on the layer's httpx client.

    Each request's timeouts are cut to the invocation's deadline, every
    response is logged and measured like any provider's, and transport
    failures arrive as the layer's typed errors (the SDK passes them through).
    """

    name = "seawall-httpx"

    def __init__(self, base_url: str, timeouts: Timeouts) -> None:
        super().__init__()
        self._timeouts = timeouts
        self._client = http_client(SERVICE, base_url=base_url, timeouts=timeouts)

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        """Send one request for the SDK: its body, status and headers, whatever the status."""
        response = send(
            self._client,
            method.upper(),
            url,
            service=SERVICE,
            timeouts=self._timeouts,
            headers=dict(headers or {}),
            content=post_data,
        )
        return response.text, response.status_code, response.headers

    def close(self) -> None:
        """Close the connections."""
        self._client.close()


class StripeGateway:
    """Typed Stripe operations for the bundle's functions; build one per container, at import."""

    def __init__(
        self, state: SharedState, settings: StripeSettings | None = None, *, wait_for_rate_limit: bool = False
    ) -> None:
        self.settings = settings or load_settings(StripeSettings)
        self.timeouts = Timeouts(connect=3.0, read=self.settings.timeout_seconds, write=10.0, pool=2.0)
        self.call = ProviderCall(
            ProviderPolicy(
                service=SERVICE,
                # Stripe counts arrivals over any sliding second.
                limits=[Limit("second", self.settings.requests_per_second, 1 + ARRIVAL_ALLOWANCE_SECONDS)],
                breaker=BreakerConfig(open_seconds=self.settings.breaker_open_seconds),
                # Requests are cut to the deadline, so an attempt needs only a useful minimum to start.
                attempt_timeout=1.0,
                # Jobs wait for the account's quota (within the deadline); actions wait their turn a second at most.
                rate_limit_wait=math.inf if wait_for_rate_limit else ACTION_RATE_LIMIT_WAIT_SECONDS,
            ),
            state,
            Secret(self.settings.secret_arn, StripeSecret, label="stripe"),
        )
        self._transport = _Transport(self.settings.api_base, self.timeouts)
        self._clients: dict[str, stripe.StripeClient] = {}
        self._lock = threading.Lock()

    def _sdk(self, secret: StripeSecret) -> stripe.StripeClient:
        """One SDK client per API key (a rotation brings a new one); connections are reused."""
        key = secret.api_key.get_secret_value()
        with self._lock:
            if key not in self._clients:
                self._clients[key] = stripe.StripeClient(
                    key,
                    stripe_version=self.settings.api_version,
                    base_addresses={"api": self.settings.api_base},
                    max_network_retries=0,
                    http_client=self._transport,
                )
            return self._clients[key]

    def _call(self, operation: Callable[[stripe.StripeClient], stripe.StripeObject | StripeResponse]) -> dict[str, Any]:
        """Run one SDK operation with every protection; Stripe's answer as a plain dict."""

        def once(secret: StripeSecret) -> dict[str, Any]:
            try:
                answer = operation(self._sdk(secret))
            except stripe.StripeError as error:
                raise stripe_error(error) from error
            if not isinstance(answer, StripeResponse):
                objects: dict[str, Any] = answer.to_dict()
                return objects
            if not isinstance(answer.data, dict):
                raise IntegrationError(SERVICE, "Stripe's answer is not an object")
            return dict(answer.data)

        return self.call(once)

    def create_customer(
        self, *, email: str | None, name: str | None, metadata: dict[str, str], idempotency_key: str
    ) -> Customer:
        """Create a customer; the same ``idempotency_key`` never creates a second one."""
        params: CustomerCreateParams = {"metadata": metadata}
        if email is not None:
            params["email"] = email
        if name is not None:
            params["name"] = name
        answer = self._call(
            lambda sdk: sdk.v1.customers.create(params=params, options={"idempotency_key": idempotency_key})
        )
        return parse_payload(Customer, answer, service=SERVICE)

    def get_customer(self, customer_id: str) -> Customer:
        """A live customer; an unknown or deleted one is a 404 IntegrationError."""
        answer = self._call(lambda sdk: sdk.v1.customers.retrieve(customer_id))
        if answer.get("deleted"):
            parse_payload(DeletedCustomer, answer, service=SERVICE)
            raise IntegrationError(SERVICE, "no such object at Stripe", status_code=404)
        return parse_payload(Customer, answer, service=SERVICE)

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer: str | None,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> PaymentIntent:
        """Create a payment intent for ``amount`` minor units of ``currency``."""
        params: PaymentIntentCreateParams = {
            "amount": amount,
            "currency": currency,
            "metadata": metadata,
            "automatic_payment_methods": {"enabled": True},
        }
        if customer is not None:
            params["customer"] = customer
        answer = self._call(
            lambda sdk: sdk.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
        )
        return parse_payload(PaymentIntent, answer, service=SERVICE)

    def list_events(self, params: EventListParams) -> dict[str, Any]:
        """One page of the Events API (Stripe's list object: ``data`` newest first, ``has_more``).

        Read raw (the SDK's public ``raw_request``): building SDK objects for a
        page of a hundred events took twice as long as the request (bench/sync.py).
        """
        return self._call(lambda sdk: sdk.raw_request("get", "/v1/events", **params))

    def get_event(self, event_id: str) -> dict[str, Any]:
        """One event of the Events API, as Stripe lists it (read raw, like :meth:`list_events`)."""
        return self._call(lambda sdk: sdk.raw_request("get", f"/v1/events/{quote(event_id, safe='')}"))
