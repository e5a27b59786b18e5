"""Per-provider secrets: JSON in Secrets Manager, validated by a pydantic model.

Reads go to Secrets Manager through the layer's client (its timeouts, the
deadline) and are cached for ``max_age`` seconds. Not Powertools Parameters:
it imports boto3, about 100 ms of every cold start, for a cache this small.
After a SnapStart restore, :func:`forget_secrets` empties every cache, so no
value read before the snapshot outlives it.
Every string in a loaded secret is registered for redaction, and failures
raise :class:`ConfigError` naming the secret and the fields, never a value.
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, Field, ValidationError

from seawall.aws import ClientTimeouts, aws_client
from seawall.config._errors import config_error
from seawall.config._settings import load_settings
from seawall.errors import ConfigError, DeadlineExceededError, StoreUnavailableError
from seawall.observability import register_secret

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

M = TypeVar("M", bound=BaseModel)


class SecretSettings(BaseModel):
    """How long a container keeps a secret before reading it again."""

    max_age_seconds: int = Field(alias="SECRETS_MAX_AGE_SECONDS", default=300, gt=0)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# Secrets Manager failing for a while, not the secret misconfigured: come back later (503), not a ConfigError.
_TRANSIENT = frozenset(
    {"ServiceUnavailable", "ThrottlingException", "InternalServiceError", "InternalFailure", "RequestTimeout"}
)


def _error_code(error: BaseException | None) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "unknown error"))
    return type(error).__name__


def _is_transient(error: BaseException | None) -> bool:
    from botocore.exceptions import ConnectionError as BotocoreConnectionError

    return _error_code(error) in _TRANSIENT or isinstance(error, (BotocoreConnectionError, TimeoutError))


class Secret(Generic[M]):
    """One provider's secret: fetched lazily, cached, validated, refreshable."""

    def __init__(
        self,
        secret_id: str,
        model: type[M],
        *,
        label: str,
        max_age: int | None = None,
        timeouts: ClientTimeouts | None = None,
    ) -> None:
        self.secret_id = secret_id
        # Bounds each read (a store's secret is read within the store's own timeouts).
        self.timeouts = timeouts or ClientTimeouts()
        self.model = model
        self.label = label
        self.max_age = load_settings(SecretSettings).max_age_seconds if max_age is None else max_age
        self._raw: dict[str, Any] | None = None
        self._value: M | None = None
        self._read_at = -float("inf")
        self._client: SecretsManagerClient | None = None
        self._forced_at = -float("inf")
        self._lock = threading.Lock()
        _SECRETS.add(self)

    @classmethod
    def from_env(cls, variable: str, model: type[M], *, label: str, max_age: int | None = None) -> Secret[M]:
        """The secret whose id (name or ARN) is in environment variable ``variable``."""
        secret_id = os.environ.get(variable, "").strip()
        if not secret_id:
            raise ConfigError("environment", [variable], "must name the secret in Secrets Manager")
        return cls(secret_id, model, label=label, max_age=max_age)

    def get(self, *, force: bool = False) -> M:
        """The validated secret; ``force`` bypasses the cache (after a rotation).

        A secret that is missing, unreadable or malformed is a :class:`ConfigError`;
        Secrets Manager being unavailable for a while is a :class:`StoreUnavailableError` (503).
        """
        with self._lock:
            fresh = not force and self._raw is not None and time.monotonic() - self._read_at < self.max_age
            if fresh and self._value is not None:
                return self._value
            raw = self._raw if fresh else None
        if raw is None:
            # Kept for max_age even if it does not validate: a malformed secret is not read again on every request.
            raw = self._read()
            for text in _strings(raw):
                register_secret(text)
            with self._lock:
                self._raw, self._value, self._read_at = raw, None, time.monotonic()
        try:
            value = self.model.model_validate(raw)
        except ValidationError as error:
            raise config_error(f"secret {self.label} ({self.secret_id})", error) from None
        with self._lock:
            if self._raw is raw:
                self._value = value
        return value

    def _read(self) -> dict[str, Any]:
        """The secret's JSON from Secrets Manager, now."""
        source = f"secret {self.label} ({self.secret_id})"
        if self._client is None:
            self._client = aws_client("secretsmanager", self.timeouts)
        try:
            text = self._client.get_secret_value(SecretId=self.secret_id).get("SecretString")
        except DeadlineExceededError:
            raise
        except Exception as error:  # noqa: BLE001 (botocore's errors: transient ones are 503, the rest misconfiguration)
            if _is_transient(error):
                raise StoreUnavailableError(f"secret {self.label}", cause=error) from None
            raise ConfigError(source, reason=f"could not be read ({_error_code(error)})") from None
        try:
            raw = json.loads(text or "")
        except ValueError:
            raw = None
        if not isinstance(raw, dict):
            raise ConfigError(source, reason="is not a JSON object")
        return raw

    def forget(self) -> None:
        """Drop the cached value: the next :meth:`get` reads Secrets Manager."""
        with self._lock:
            self._raw, self._value = None, None
            self._read_at, self._forced_at = -float("inf"), -float("inf")

    def refetched(self, *, min_interval: float = 30.0) -> M | None:
        """The secret read again now, or ``None`` if this container already did so within ``min_interval`` seconds.

        For a caller that suspects a rotation (a signature that matches no
        known secret): a flood of forged requests costs at most one read per
        interval.
        """
        with self._lock:
            now = time.monotonic()
            if now - self._forced_at < min_interval:
                return None
            self._forced_at = now
        return self.get(force=True)


_SECRETS: weakref.WeakSet[Secret[Any]] = weakref.WeakSet()


def forget_secrets() -> None:
    """Empty every secret's cache (after a SnapStart restore: values read before the snapshot are not reused)."""
    for secret in list(_SECRETS):
        secret.forget()
