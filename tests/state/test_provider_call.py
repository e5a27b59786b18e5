"""The composed provider call against a scripted provider, on both backends."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from seawall.breaker import BreakerConfig, BreakerState
from seawall.config import Secret
from seawall.deadline import Deadline, bind_deadline
from seawall.errors import CircuitOpenError, DeadlineExceededError, IntegrationError, ThrottledError
from seawall.http import http_client, request
from seawall.providers.stripe.secrets import StripeSecret
from seawall.ratelimit import Limit
from seawall.resilience import ProviderCall, ProviderPolicy
from seawall.retry import RetryPolicy
from seawall.state import SharedState
from tests.support.http_server import ProviderServer, Reply

KEY = {"api_key": "sk_test_firstKEY0000000001"}
ROTATED = {"api_key": "sk_test_secondKEY000000002"}


@pytest.fixture
def key(put_secret: Any) -> Secret[StripeSecret]:
    """A provider's credentials in Secrets Manager (moto)."""
    return Secret(put_secret(f"stack/key-{uuid.uuid4().hex[:8]}", KEY), StripeSecret, label="provider", max_age=300)


def policy(**overrides: object) -> ProviderPolicy:
    settings: dict[str, object] = {
        "service": f"svc-{uuid.uuid4().hex[:10]}",
        "limits": [Limit("minute", 100, 60, fixed=True)],
        "breaker": BreakerConfig(minimum_calls=3, state_staleness_seconds=0, open_seconds=30),
        "retry": RetryPolicy(attempts=3),
        "attempt_timeout": 1.0,
    }
    settings.update(overrides)
    return ProviderPolicy(**settings)  # type: ignore[arg-type]


def get(provider: ProviderServer, service: str, path: str = "/thing") -> Any:
    """A request that sends the credentials it is given."""

    def send(credentials: StripeSecret) -> str:
        headers = {"Authorization": f"Bearer {credentials.api_key.get_secret_value()}"}
        return request(http_client(service, base_url=provider.url), "GET", path, service=service, headers=headers).text

    return send


def test_a_probe_refused_by_our_limiter_does_not_hold_its_slot(
    state: SharedState, provider: ProviderServer, key: Secret[StripeSecret]
) -> None:
    breaker = BreakerConfig(minimum_calls=3, state_staleness_seconds=0, open_seconds=0.2, probe_lease_seconds=30)
    call = ProviderCall(policy(breaker=breaker, limits=[Limit("day", 4, 86_400, fixed=True)]), state, key)
    provider.replies["/thing"] = [Reply(503), Reply(503), Reply(503), Reply(200, b'"ok"')]
    with pytest.raises(IntegrationError):
        call(get(provider, call.policy.service))  # three attempts, three faults: open
    time.sleep(0.25)
    assert call(get(provider, call.policy.service)) == '"ok"'  # the last slot of the day, as a probe
    assert call.breaker is not None
    assert call.breaker.state is BreakerState.HALF_OPEN  # one probe of two so far
    with pytest.raises(ThrottledError):
        call(get(provider, call.policy.service))  # admitted as the second probe, refused by the limiter
    token = call.breaker.before_call()  # had the refused probe kept its lease, no slot would be left for 30 s
    assert token is not None


def test_transient_failures_are_retried_and_each_attempt_takes_a_slot(
    state: SharedState, provider: ProviderServer, key: Secret[StripeSecret]
) -> None:
    call = ProviderCall(
        policy(limits=[Limit("day", 2, 86_400, fixed=True)]), state, key
    )  # a window the test will not straddle
    provider.replies["/thing"] = [Reply(503), Reply(200, b'"ok"')]
    assert call(get(provider, call.policy.service)) == '"ok"'
    assert len(provider.seen) == 2
    with pytest.raises(ThrottledError):  # both slots went to the two attempts
        call(get(provider, call.policy.service))
    assert len(provider.seen) == 2  # refused before reaching the provider


def test_the_breaker_opens_and_stops_the_calls(
    state: SharedState, provider: ProviderServer, key: Secret[StripeSecret]
) -> None:
    call = ProviderCall(policy(), state, key)
    provider.replies["/thing"] = Reply(503)
    with pytest.raises(IntegrationError):
        call(get(provider, call.policy.service))
    assert len(provider.seen) == 3
    assert call.breaker is not None
    assert call.breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpenError):
        call(get(provider, call.policy.service))
    assert len(provider.seen) == 3


def test_client_errors_are_neither_retried_nor_held_against_the_provider(
    state: SharedState, provider: ProviderServer, key: Secret[StripeSecret]
) -> None:
    call = ProviderCall(policy(), state, key)
    provider.replies["/thing"] = Reply(404)
    for _ in range(5):
        with pytest.raises(IntegrationError):
            call(get(provider, call.policy.service))
    assert len(provider.seen) == 5
    assert call.breaker is not None
    assert call.breaker.state is BreakerState.CLOSED


def test_no_time_left_means_no_call_and_no_store_traffic(
    state: SharedState, provider: ProviderServer, key: Secret[StripeSecret]
) -> None:
    call = ProviderCall(policy(), state, key)
    with bind_deadline(Deadline.after(-1)), pytest.raises(DeadlineExceededError):
        call(get(provider, call.policy.service))
    assert provider.seen == []


def test_misconfiguration_fails_when_built(state: SharedState, key: Secret[StripeSecret]) -> None:
    from seawall.errors import ConfigError

    with pytest.raises(ConfigError):
        ProviderCall(policy(limits=[Limit("a", 1, 1), Limit("a", 1, 1)]), state, key)


def test_a_401_after_rotation_reads_the_secret_again_and_calls_once_more(
    state: SharedState, provider: ProviderServer, put_secret: Any
) -> None:
    name = f"stack/rotation-{uuid.uuid4().hex[:8]}"
    secret = Secret(put_secret(name, KEY), StripeSecret, label="provider", max_age=300)
    call = ProviderCall(policy(), state, secret)
    secret.get()  # cached in this container
    put_secret(name, ROTATED)  # rotated elsewhere; the provider now refuses the old key
    provider.replies["/thing"] = [Reply(401), Reply(200, b'"ok"')]
    assert call(get(provider, call.policy.service)) == '"ok"'
    assert [seen.headers["Authorization"] for seen in provider.seen] == [
        f"Bearer {KEY['api_key']}",
        f"Bearer {ROTATED['api_key']}",
    ]


def test_a_request_sent_at_most_once_is_not_sent_again_after_a_rotation(
    state: SharedState, provider: ProviderServer, put_secret: Any
) -> None:
    # A 401 may come after the provider did the work (a booking with no idempotency key): the fresh secret is
    # read for the next call, and this one is not sent twice.
    name = f"stack/rotation-{uuid.uuid4().hex[:8]}"
    secret = Secret(put_secret(name, KEY), StripeSecret, label="provider", max_age=300)
    call = ProviderCall(policy(), state, secret)
    secret.get()
    put_secret(name, ROTATED)
    provider.replies["/thing"] = [Reply(401), Reply(200, b'"ok"')]
    with pytest.raises(IntegrationError) as caught:
        call(get(provider, call.policy.service), retry=RetryPolicy(attempts=1))
    assert caught.value.status_code == 401
    assert call(get(provider, call.policy.service), retry=RetryPolicy(attempts=1)) == '"ok"'
    assert [seen.headers["Authorization"] for seen in provider.seen] == [
        f"Bearer {KEY['api_key']}",
        f"Bearer {ROTATED['api_key']}",
    ]


def test_a_401_without_rotation_stands_and_is_not_retried(
    state: SharedState, provider: ProviderServer, key: Secret[StripeSecret]
) -> None:
    call = ProviderCall(policy(), state, key)
    provider.replies["/thing"] = Reply(401)
    for _ in range(3):
        with pytest.raises(IntegrationError) as caught:
            call(get(provider, call.policy.service))
        assert caught.value.status_code == 401
    assert len(provider.seen) == 3  # never retried: the same key would be refused again
