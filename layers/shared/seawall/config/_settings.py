"""Non-secret settings, read from environment variables and validated once at cold start.

A settings model declares each field with its environment variable's name as
alias; :func:`load_settings` reads only those variables and turns a failure
into a :class:`ConfigError` naming the variables at fault.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from seawall.config._errors import config_error

S = TypeVar("S", bound=BaseModel)


def load_settings(model: type[S], environ: Mapping[str, str] | None = None) -> S:
    """Build ``model`` from the environment variables named by its field aliases."""
    env = os.environ if environ is None else environ
    names = [field.alias or name for name, field in model.model_fields.items()]
    try:
        return model.model_validate({name: env[name] for name in names if name in env})
    except ValidationError as error:
        raise config_error("environment", error) from None


class CoreSettings(BaseModel):
    """Settings every function shares (set by the template's Globals)."""

    model_config = ConfigDict(frozen=True)

    stage: str = Field(alias="STAGE", min_length=1)
    service: str = Field(alias="POWERTOOLS_SERVICE_NAME", min_length=1)
    metrics_namespace: str = Field(alias="POWERTOOLS_METRICS_NAMESPACE", min_length=1)
    deadline_margin_ms: int = Field(alias="DEADLINE_MARGIN_MS", default=500, ge=0)


def core_settings() -> CoreSettings:
    """The core settings from the environment, validated (callers read them at cold start)."""
    return load_settings(CoreSettings)
