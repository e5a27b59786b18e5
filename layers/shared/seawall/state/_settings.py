"""Settings of the shared-state backend, validated at cold start."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StateSettings(BaseModel):
    """Which backend holds shared state, and where."""

    model_config = ConfigDict(frozen=True)

    backend: Literal["dynamodb", "upstash"] = Field(alias="STATE_BACKEND", default="dynamodb")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", default="")
    state_table: str = Field(alias="STATE_TABLE", default="")
    upstash_secret: str = Field(alias="UPSTASH_SECRET_ARN", default="")
    timeout_ms: int = Field(alias="STATE_TIMEOUT_MS", default=800, gt=0)

    @model_validator(mode="after")
    def _backend_is_located(self) -> Self:
        needed = (
            {"IDEMPOTENCY_TABLE": self.idempotency_table, "STATE_TABLE": self.state_table}
            if self.backend == "dynamodb"
            else {"UPSTASH_SECRET_ARN": self.upstash_secret}
        )
        missing = [name for name, value in needed.items() if not value]
        if missing:
            raise ValueError(f"{', '.join(missing)} must be set when STATE_BACKEND is {self.backend}")
        return self
