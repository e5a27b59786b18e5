"""Non-secret Hotelbeds settings, from the environment."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class HotelbedsSettings(BaseModel):
    """Where the Hotelbeds secret is, how to call APItude, and the account's quota."""

    model_config = ConfigDict(frozen=True)

    secret_arn: str = Field(alias="HOTELBEDS_SECRET_ARN", min_length=1)
    api_base: str = Field(alias="HOTELBEDS_API_BASE", default="https://api.test.hotelbeds.com", pattern=r"^https?://")
    # APItude's quotas are per API key: per second and per day (evaluation keys: about 50 a day).
    requests_per_second: int = Field(alias="HOTELBEDS_REQUESTS_PER_SECOND", default=4, ge=1)
    daily_quota: int = Field(alias="HOTELBEDS_DAILY_QUOTA", default=50, ge=1)
    # Hotelbeds documents 60 s for availability, checkrates and confirmation, 120 s for list, detail and cancel.
    timeout_seconds: float = Field(alias="HOTELBEDS_TIMEOUT_SECONDS", default=60.0, gt=0)
    list_timeout_seconds: float = Field(alias="HOTELBEDS_LIST_TIMEOUT_SECONDS", default=120.0, gt=0)
    breaker_open_seconds: float = Field(alias="HOTELBEDS_BREAKER_OPEN_SECONDS", default=30.0, gt=0)
    availability_cache_seconds: float = Field(alias="HOTELBEDS_AVAILABILITY_CACHE_SECONDS", default=300.0, ge=0)
    language: str = Field(alias="HOTELBEDS_LANGUAGE", default="ENG", pattern=r"^[A-Z]{3}$")
