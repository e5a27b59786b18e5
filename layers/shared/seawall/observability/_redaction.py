"""Redaction of secrets from anything that leaves the process as text.

Two nets: secret shapes (bearer tokens here; each provider registers its own,
such as Stripe's keys) wherever they appear, and the exact values of every
secret this process has loaded (registered by ``seawall.config.Secret``), in
plain and JSON-escaped form since log lines are JSON.
"""

from __future__ import annotations

import json
import re
import threading

MASK = "[REDACTED]"

# Values shorter than this are not registered: masking "1" or "true" everywhere would wreck logs.
_MIN_SECRET_LENGTH = 8

_BEARER = r"\bBearer\s+[A-Za-z0-9._~+/=-]+"  # bearer tokens in headers or messages


class Redactor:
    """Masks known secret shapes and registered secret values in text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._shape_sources: list[str] = [_BEARER]
        self._shapes = re.compile(_BEARER, re.IGNORECASE)
        self._lock = threading.Lock()

    def register_shape(self, pattern: str) -> None:
        """Mask every match of the regular expression ``pattern`` (a provider's key format) from now on."""
        with self._lock:
            if pattern in self._shape_sources:
                return
            self._shape_sources.append(pattern)
            self._shapes = re.compile("|".join(f"(?:{source})" for source in self._shape_sources), re.IGNORECASE)

    def register(self, value: str) -> None:
        """Mask ``value`` (and its JSON-escaped form) from now on."""
        if len(value) < _MIN_SECRET_LENGTH:
            return
        forms = {value, json.dumps(value)[1:-1]}
        with self._lock:
            if forms <= self._values:
                return
            self._values |= forms
            # Longest first so a value containing another is masked whole.
            alternatives = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret masked."""
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        return self._shapes.sub(MASK, text)

    def clear(self) -> None:
        """Forget the registered values (tests only)."""
        with self._lock:
            self._values.clear()
            self._pattern = None


_REDACTOR = Redactor()
register_secret = _REDACTOR.register
register_secret_shape = _REDACTOR.register_shape
redact = _REDACTOR.redact
clear_registered_secrets = _REDACTOR.clear
