"""Stripe deliveries: signatures made by Stripe's own signer verify over the exact bytes, in both time directions;
anything else is refused with its reason, and only event objects pass."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import stripe

from local.sandboxes.stripe import FIXTURES
from seawall.errors import WebhookPayloadError, WebhookVerificationError
from seawall.providers.stripe.webhooks import parse_event, verify_signature
from seawall.webhooks.signed import signature_header

SECRET = "whsec_test_current000000000000"
OLD_SECRET = "whsec_test_previous00000000000"
PAYLOAD = json.dumps({**FIXTURES["event"], "type": "payment_intent.succeeded"}, separators=(",", ":"))


def header(payload: str = PAYLOAD, secret: str = SECRET, at: float | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, secret, int(at or time.time()))


def test_a_delivery_signed_by_stripes_signer_verifies() -> None:
    verify_signature(PAYLOAD.encode(), header(), [SECRET])


@pytest.mark.parametrize("skew", [-299, 299])
def test_timestamps_within_tolerance_either_way_pass(skew: int) -> None:
    verify_signature(PAYLOAD.encode(), header(at=time.time() + skew), [SECRET])


# Built when the test runs: a signature made at collection time would age while the suite runs.
def _unicode_digits() -> tuple[str, str]:
    real = header()
    stamp = real.split(",")[0][2:]
    return PAYLOAD, real.replace(f"t={stamp}", "t=" + stamp.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")))


BAD_DELIVERIES: dict[str, tuple[Callable[[], tuple[str, str]], str]] = {
    "tampered body": (lambda: (PAYLOAD.replace("payment_intent", "payment_intenT", 1), header()), "no-match"),
    "another secret": (lambda: (PAYLOAD, header(secret="whsec_somebody_else0000000000")), "no-match"),
    "too old": (lambda: (PAYLOAD, header(at=time.time() - 301)), "timestamp"),
    "from the future": (lambda: (PAYLOAD, header(at=time.time() + 301)), "timestamp"),
    "missing": (lambda: (PAYLOAD, ""), "missing-header"),
    "garbled": (lambda: (PAYLOAD, "nonsense"), "malformed-header"),
    "garbled timestamp": (lambda: (PAYLOAD, "t=notanumber,v1=abc"), "malformed-header"),
    "superscript timestamp": (lambda: (PAYLOAD, "t=²,v1=abc"), "malformed-header"),
    "circled timestamp": (lambda: (PAYLOAD, "t=①②③,v1=abc"), "malformed-header"),
    "arabic-indic timestamp": (_unicode_digits, "malformed-header"),
    "no timestamp": (lambda: (PAYLOAD, f"v1={header().split('v1=')[1]}"), "malformed-header"),
    "no signature": (lambda: (PAYLOAD, header().split(",v1=")[0]), "malformed-header"),
    "non-ascii signature": (lambda: (PAYLOAD, header().split(",v1=")[0] + ",v1=é" + "0" * 63), "no-match"),
}


@pytest.mark.parametrize("case", BAD_DELIVERIES)
def test_bad_deliveries_fail_with_their_reason(case: str) -> None:
    make, reason = BAD_DELIVERIES[case]
    payload, signature = make()
    with pytest.raises(WebhookVerificationError) as caught:
        verify_signature(payload.encode(), signature, [SECRET])
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"{}",
        b'{"foo": 1}',
        b"[1, 2]",
        b"null",
        b'"evt_1"',
        b"\xff\xfe",
        json.dumps({**FIXTURES["event"], "data": None}).encode(),
    ],
    ids=["empty", "not json", "empty object", "foo", "array", "null", "string", "binary", "no data"],
)
def test_only_event_objects_are_events(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError):
        parse_event(body)


def test_stripes_example_events_are_events() -> None:
    example = parse_event(json.dumps(FIXTURES["event"]).encode())  # a type not handled: its object is not read
    assert (example.id, example.type) == (FIXTURES["event"]["id"], FIXTURES["event"]["type"])
    succeeded = {
        **FIXTURES["event"],
        "type": "payment_intent.succeeded",
        "data": {"object": FIXTURES["payment_intent"]},
    }
    assert parse_event(json.dumps(succeeded).encode()).type == "payment_intent.succeeded"


def test_a_handled_event_whose_object_is_another_kind_is_not_an_event() -> None:
    with pytest.raises(WebhookPayloadError):
        parse_event(PAYLOAD.encode())  # payment_intent.succeeded carrying Stripe's example plan


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


def test_a_matching_v1_signature_anywhere_in_the_header_verifies() -> None:
    """Stripe may list several v1 values (a secret being rolled): the match may be the last of them."""
    stamp = int(time.time())
    valid = signature_header(PAYLOAD.encode(), OLD_SECRET, stamp).split(",")[1]
    for header_value in (f"t={stamp},v1={'0' * 64},{valid}", f"t={stamp},v1={'0' * 64},v1={'1' * 64},{valid}"):
        verify_signature(PAYLOAD.encode(), header_value, [SECRET, OLD_SECRET])
