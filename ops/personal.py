"""Personal data kept out of what ``ops`` prints, as secrets are (``seawall.observability.redact``).

Two nets. In a message body that is JSON (and in JSON carried as a string inside it, as SNS and
EventBridge wrap messages), the values of the fields that hold personal data in the providers'
objects, whatever their depth and however their names are cased or joined (``customer_name``,
``holderName``, ``verified_phone``). In any text, the shapes of e-mail addresses, of phone numbers
written with a country code, and of card numbers (a run of 13 to 19 digits, or grouped as cards are
printed, that passes the Luhn check; never a JSON number's or a float's digits, so that ``--json``
stays JSON and timestamps, amounts and account ids stay readable). Ids stay: they are how an
operator finds the rest.
"""

from __future__ import annotations

import json
import re
from typing import Any

MASK = "[PERSONAL]"

# Field names, lower-cased with "_" and "-" removed: a key holds personal data if it is one of these, or ends
# with one of ``_PERSONAL_SUFFIXES`` (``customer_email``, ``billing_address``, ``guestname``).
PERSONAL_FIELDS = frozenset(
    {
        # People: Stripe's customers, billing and shipping details, Connect individuals; Hotelbeds' holder and guests.
        *("email", "name", "phone", "address", "shipping", "billingdetails", "owner", "individual"),
        *("firstname", "lastname", "surname", "dob", "dateofbirth", "ssnlast4", "idnumber", "passport", "taxids"),
        *("holder", "paxes", "remark", "ipaddress", "useragent", "customerpurchaseip"),
        # Cards.
        *("number", "cvc", "expmonth", "expyear", "last4", "dynamiclast4", "fingerprint"),
    }
)
_PERSONAL_SUFFIXES = ("name", "email", "phone", "address", "last4")

_EMAIL = re.compile(
    # An address as it is, or form- or JSON-escaped: any letters (not ASCII alone) before and after the "@".
    r"[\w.+'%-]+(?:@|%40|\\u0040)[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}",
)
# A phone number with its country code: "+", then 8 to 15 digits, maybe grouped.
_PHONE = re.compile(r"(?<![\w+])\+\d(?:[ .()-]{0,2}\d){7,14}(?!\d)")
# Card numbers: 13 to 19 digits in a row, or 4-4-4-4(-3) or 4-6-5 with one space or dash between groups.
# Not the digits of a JSON number (after ": " or ":") or a float's fraction (after "."), nor part of a longer run.
_CARD = re.compile(
    r"(?<![\d.])(?<!:)(?<!: )"
    r"(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?|\d{4}([ -])\d{6}\2\d{5})"
    r"(?!\d|\.\d)"
)


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
    """``text`` with every e-mail address, international phone number and card number masked."""
    return _CARD.sub(_card, _PHONE.sub(MASK, _EMAIL.sub(MASK, text)))


def _personal(key: str) -> bool:
    name = re.sub(r"[_-]", "", key).lower()
    return name in PERSONAL_FIELDS or name.endswith(_PERSONAL_SUFFIXES)


def _fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: MASK if _personal(key) and item not in (None, "", [], {}) else _fields(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_fields(item) for item in value]
    if isinstance(value, str) and value[:1] in ("{", "["):  # JSON carried as a string (an SNS or EventBridge body)
        try:
            return json.dumps(_fields(json.loads(value)), ensure_ascii=False)
        except ValueError:
            return value
    return value


def mask_personal(text: str) -> str:
    """A message body with personal data masked: its fields when it is JSON, then the shapes anywhere."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return mask_shapes(text)
    return mask_shapes(json.dumps(_fields(parsed), ensure_ascii=False))
