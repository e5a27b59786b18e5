"""Turning a pydantic validation failure into a ConfigError that names fields, never values."""

from __future__ import annotations

from pydantic import ValidationError

from seawall.errors import ConfigError


def config_error(source: str, error: ValidationError) -> ConfigError:
    """A ConfigError for ``source`` listing each failing field and why."""
    problems = error.errors(include_input=False, include_url=False, include_context=False)
    fields = sorted({".".join(str(part) for part in item["loc"]) or "(value)" for item in problems})
    reasons = "; ".join(f"{'.'.join(str(p) for p in item['loc']) or '(value)'}: {item['msg']}" for item in problems)
    return ConfigError(source, fields, reasons)
