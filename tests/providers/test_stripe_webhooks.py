"""Stripe-Signature verification agrees with stripe-python, over the exact bytes, in both time directions."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import stripe

from local.sandboxes.stripe import FIXTURES
from seawall.errors import WebhookVerificationError
from seawall.providers.stripe.webhooks import verify_signature

SECRET = "whsec_test_current000000000000"
OLD_SECRET = "whsec_test_previous00000000000"
PAYLOAD = json.dumps({**FIXTURES["event"], "type": "payment_intent.succeeded"}, separators=(",", ":"))


def header(payload: str = PAYLOAD, secret: str = SECRET, at: float | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, secret, int(at or time.time()))


def test_a_delivery_signed_by_stripes_helper_verifies_as_stripe_python_says() -> None:
    signature = header()
    verify_signature(PAYLOAD.encode(), signature, [SECRET])
    stripe.WebhookSignature.verify_header(PAYLOAD, signature, SECRET, tolerance=300)


@pytest.mark.parametrize("skew", [-299, 299])
def test_timestamps_within_tolerance_either_way_pass(skew: int) -> None:
    verify_signature(PAYLOAD.encode(), header(at=time.time() + skew), [SECRET])


# Built when the test runs: a signature made at collection time would age while the suite runs.
BAD_DELIVERIES: dict[str, Callable[[], tuple[str, str]]] = {
    "tampered body": lambda: (PAYLOAD.replace("payment_intent", "payment_intenT", 1), header()),
    "another secret": lambda: (PAYLOAD, header(secret="whsec_somebody_else0000000000")),
    "too old": lambda: (PAYLOAD, header(at=time.time() - 301)),
    "from the future": lambda: (PAYLOAD, header(at=time.time() + 301)),
    "missing": lambda: (PAYLOAD, ""),
    "garbled": lambda: (PAYLOAD, "nonsense"),
    "garbled timestamp": lambda: (PAYLOAD, "t=notanumber,v1=abc"),
    "no timestamp": lambda: (PAYLOAD, f"v1={header().split('v1=')[1]}"),
    "no signature": lambda: (PAYLOAD, header().split(",v1=")[0]),
}


@pytest.mark.parametrize("case", BAD_DELIVERIES)
def test_bad_deliveries_fail(case: str) -> None:
    payload, signature = BAD_DELIVERIES[case]()
    with pytest.raises(WebhookVerificationError):
        verify_signature(payload.encode(), signature, [SECRET])


def test_stripe_python_rejects_the_tampered_body_too() -> None:
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(PAYLOAD + " ", header(), SECRET, tolerance=300)


def test_any_v1_value_and_any_configured_secret_may_match() -> None:
    signature = header(secret=OLD_SECRET)
    several = f"{signature},v1={'0' * 64},v0=legacy"
    verify_signature(PAYLOAD.encode(), several, [SECRET, OLD_SECRET])  # rolled: both valid for a while
    with pytest.raises(WebhookVerificationError):
        verify_signature(PAYLOAD.encode(), several, [SECRET])


def test_the_exact_bytes_are_verified_not_a_reencoding() -> None:
    spaced = json.dumps(json.loads(PAYLOAD), indent=2)  # same JSON, other bytes
    with pytest.raises(WebhookVerificationError):
        verify_signature(spaced.encode(), header(), [SECRET])
