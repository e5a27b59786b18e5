"""Stripe's limits on what callers may send, as pydantic types (checked before anything reaches Stripe)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
MetadataValue = Annotated[str, StringConstraints(max_length=500)]
# Stripe: at most 50 keys, keys up to 40 characters, values up to 500.
Metadata = Annotated[dict[MetadataKey, MetadataValue], Field(max_length=50)]

# Stripe's ceiling is eight digits of the smallest unit (99,999,999 in most currencies).
Amount = Annotated[int, Field(gt=0, le=99_999_999, strict=True)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$", to_lower=True)]
CustomerId = Annotated[str, StringConstraints(pattern=r"^cus_[A-Za-z0-9]{1,64}$")]
