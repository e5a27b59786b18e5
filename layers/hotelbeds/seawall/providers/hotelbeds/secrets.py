"""The JSON held in the Hotelbeds secret."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class HotelbedsSecret(BaseModel):
    """``{"api_key": "...", "secret": "..."}``: APItude's key and the shared secret behind X-Signature."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    api_key: SecretStr = Field(min_length=1)
    secret: SecretStr = Field(min_length=1)
