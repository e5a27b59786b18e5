"""Personal data kept out of what ``ops`` prints, as secrets are (``seawall.observability.redact``).

Two nets. In a message body that is JSON, the values of the fields that hold
personal data in the providers' objects (a Stripe customer's e-mail, name,
phone and addresses, a card's number and expiry; a Hotelbeds booking's holder
and guests), whatever their depth. In any text, the shapes of e-mail addresses
and of card numbers (a run of 14 to 19 digits that passes the Luhn check, so
that timestamps and account ids stay readable). Ids stay: they are how an
operator finds the rest.
"""

from __future__ import annotations

import json
import re
from typing import Any

MASK = "[PERSONAL]"

PERSONAL_FIELDS = frozenset(
    {
        # Stripe: customers, billing and shipping details, cards.
        *("email", "name", "phone", "address", "shipping", "billing_details", "description"),
        *("number", "cvc", "exp_month", "exp_year", "last4", "fingerprint"),
        # Hotelbeds: the booking's holder and its guests.
        *("holder", "paxes", "surname", "remark"),
    }
)

# An address as it is, or form-encoded (Stripe's requests are: ``email=ada%40example.com``).
_EMAIL = re.compile(r"[A-Za-z0-9._+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Not the digits after a decimal point: a float's fraction is no card.
_CARD_CANDIDATE = re.compile(r"(?<![\d.-])\d(?:[ -]?\d){13,18}(?![\d-])")


def _luhn(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(int(character) for character in reversed(digits)):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled  # noqa: PLR2004 (a doubled digit's digit sum)
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group())
    return MASK if _luhn(digits) else match.group()


def mask_shapes(text: str) -> str:
    """``text`` with every e-mail address and card number masked."""
    return _CARD_CANDIDATE.sub(_card, _EMAIL.sub(MASK, text))


def _fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: MASK if key in PERSONAL_FIELDS and item is not None else _fields(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_fields(item) for item in value]
    return value


def mask_personal(text: str) -> str:
    """A message body with personal data masked: its fields when it is JSON, then the shapes anywhere."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return mask_shapes(text)
    return mask_shapes(json.dumps(_fields(parsed), ensure_ascii=False))
