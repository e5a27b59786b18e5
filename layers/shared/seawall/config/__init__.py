"""Configuration: non-secret settings from the environment, secrets from Secrets Manager.

- :func:`load_settings`: a pydantic model read from the environment variables its aliases name.
- :class:`Secret`: a provider's secret, validated, cached, read again on demand;
  :func:`forget_secrets` empties every cache (after a SnapStart restore).
- :class:`CoreSettings`: what every function shares (stage, service, deadline margin).

Failures are :class:`~seawall.errors.ConfigError` naming the fields, never a value.
"""

from seawall.config._secrets import Secret, forget_secrets
from seawall.config._settings import CoreSettings, core_settings, load_settings

__all__ = ["CoreSettings", "Secret", "core_settings", "forget_secrets", "load_settings"]
