"""APItude's X-Signature: a plain SHA-256 of api key + secret + Unix seconds, fresh per request."""

from __future__ import annotations

import hashlib
import hmac

from seawall.providers.hotelbeds.secrets import HotelbedsSecret
from seawall.providers.hotelbeds.signing import signature, signed_headers

API_KEY, SECRET, AT = "abcdefghijklmnopqrstuvwx", "1234567890AB", 1_700_000_000
# printf '%s' "abcdefghijklmnopqrstuvwx1234567890AB1700000000" | sha256sum
KNOWN = "09572fa735ebd913772817ec10055f3f9478018c436dc9640f08c230ac950f4d"


def test_the_signature_matches_a_known_answer() -> None:
    assert signature(API_KEY, SECRET, AT) == KNOWN


def test_the_signature_is_not_the_hmac_the_original_guide_computed() -> None:
    guide = hmac.new(SECRET.encode(), f"{API_KEY}{AT}".encode(), hashlib.sha256).hexdigest()
    assert signature(API_KEY, SECRET, AT) != guide


def test_each_second_signs_differently_and_the_headers_carry_key_and_signature() -> None:
    credentials = HotelbedsSecret(api_key=API_KEY, secret=SECRET)
    headers = signed_headers(credentials, now=AT + 0.9)
    assert headers == {"Api-key": API_KEY, "X-Signature": KNOWN}
    assert signed_headers(credentials, now=AT + 1)["X-Signature"] != KNOWN
    assert SECRET not in repr(credentials)
