"""Stripe's limits on what callers may send, as pydantic types (checked before anything reaches Stripe)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints, WithJsonSchema

# Stripe: at most 50 keys, keys up to 40 characters and without square brackets, values up to 500.
_KEY_PATTERN = r"^[^\[\]]*$"
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=_KEY_PATTERN)]
MetadataValue = Annotated[str, StringConstraints(max_length=500)]
# pydantic would publish the key pattern as patternProperties, which leaves other keys unconstrained;
# propertyNames says what is checked: every key matches.
Metadata = Annotated[
    dict[MetadataKey, MetadataValue],
    Field(max_length=50),
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": 50,
            "propertyNames": {"minLength": 1, "maxLength": 40, "pattern": _KEY_PATTERN},
            "additionalProperties": {"type": "string", "maxLength": 500},
        }
    ),
]


def _whole_number(value: object) -> object:
    """JSON integers only: 6 and 6.0 are six; "6", true and 6.5 are not amounts."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number of the currency's smallest unit")  # noqa: TRY004 (pydantic wants ValueError)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number of the currency's smallest unit")
        return int(value)
    return value


# Stripe's ceiling is eight digits of the smallest unit (99,999,999 in most currencies).
Amount = Annotated[int, Field(gt=0, le=99_999_999), BeforeValidator(_whole_number)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$", to_lower=True)]
CustomerId = Annotated[str, StringConstraints(pattern=r"^cus_[A-Za-z0-9]{1,64}$")]
