"""Non-secret settings from the environment fail fast and clearly."""

from __future__ import annotations

import pytest

from seawall.config import CoreSettings, load_settings
from seawall.errors import ConfigError

VALID = {"STAGE": "dev", "POWERTOOLS_SERVICE_NAME": "integrations", "POWERTOOLS_METRICS_NAMESPACE": "Integrations"}


def test_defaults_apply_when_optional_variables_are_absent() -> None:
    settings = load_settings(CoreSettings, VALID)
    assert settings.state_backend == "dynamodb"
    assert settings.secrets_max_age_seconds == 300
    assert settings.deadline_margin_ms == 500


def test_a_wrong_value_names_the_variable_never_the_value() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(CoreSettings, {**VALID, "STATE_BACKEND": "memcached-secret-host"})
    assert caught.value.fields == ("STATE_BACKEND",)
    assert "memcached-secret-host" not in str(caught.value)


def test_every_missing_variable_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(CoreSettings, {"SECRETS_MAX_AGE_SECONDS": "0"})
    assert caught.value.fields == (
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_SERVICE_NAME",
        "SECRETS_MAX_AGE_SECONDS",
        "STAGE",
    )
    assert "greater than 0" in str(caught.value)
