"""Non-secret settings from the environment fail fast and clearly."""

from __future__ import annotations

import pytest

from seawall.config import CoreSettings, load_settings
from seawall.config._secrets import SecretSettings
from seawall.errors import ConfigError
from seawall.state import StateSettings

VALID = {"STAGE": "dev", "POWERTOOLS_SERVICE_NAME": "integrations", "POWERTOOLS_METRICS_NAMESPACE": "Integrations"}


def test_defaults_apply_when_optional_variables_are_absent() -> None:
    assert load_settings(CoreSettings, VALID).deadline_margin_ms == 500
    assert load_settings(SecretSettings, {}).max_age_seconds == 300
    state = load_settings(StateSettings, {"IDEMPOTENCY_TABLE": "idempotency", "STATE_TABLE": "state"})
    assert (state.backend, state.timeout_ms) == ("dynamodb", 800)


def test_a_wrong_value_names_the_variable_never_the_value() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(StateSettings, {"STATE_BACKEND": "memcached-secret-host"})
    assert caught.value.fields == ("STATE_BACKEND",)
    assert "memcached-secret-host" not in str(caught.value)


def test_every_missing_variable_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(CoreSettings, {"DEADLINE_MARGIN_MS": "-1"})
    assert caught.value.fields == (
        "DEADLINE_MARGIN_MS",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_SERVICE_NAME",
        "STAGE",
    )
    assert "greater than or equal to 0" in str(caught.value)
