"""Configuration: non-secret settings from the environment, secrets from Secrets Manager."""

from seawall.config.secrets import Secret
from seawall.config.settings import CoreSettings, core_settings, load_settings

__all__ = ["CoreSettings", "Secret", "core_settings", "load_settings"]
