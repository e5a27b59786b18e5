"""Provider secrets from Secrets Manager (moto server over HTTP), read and cached by seawall.config.Secret."""

from __future__ import annotations

from typing import Any

import pytest

from seawall.config import Secret
from seawall.errors import ConfigError
from seawall.observability._redaction import redact
from seawall.providers.hotelbeds.secrets import HotelbedsSecret
from seawall.providers.stripe.secrets import StripeSecret, StripeWebhookSecret

STRIPE = {"api_key": "sk_test_firstKEY0000000001"}
ROTATED = {"api_key": "sk_test_secondKEY000000002"}
SIGNING = {"webhook_secrets": ["whsec_first000000000000000001", "whsec_second00000000000000002"]}


def test_a_valid_secret_is_loaded_and_typed(put_secret: Any) -> None:
    value = Secret(put_secret("stack/stripe", STRIPE), StripeSecret, label="stripe").get()
    assert value.api_key.get_secret_value() == STRIPE["api_key"]
    assert STRIPE["api_key"] not in repr(value)
    signing = Secret(put_secret("stack/stripe-webhook", SIGNING), StripeWebhookSecret, label="stripe-webhook").get()
    assert [s.get_secret_value() for s in signing.webhook_secrets] == SIGNING["webhook_secrets"]


def test_a_forced_read_is_at_most_one_per_interval(put_secret: Any) -> None:
    arn = put_secret("stack/stripe-refetch", STRIPE)
    secret = Secret(arn, StripeSecret, label="stripe", max_age=300)
    secret.get()
    put_secret("stack/stripe-refetch", ROTATED)
    fresh = secret.refetched(min_interval=60)
    assert fresh is not None
    assert fresh.api_key.get_secret_value() == ROTATED["api_key"]
    put_secret("stack/stripe-refetch", STRIPE)
    assert secret.refetched(min_interval=60) is None  # a flood of bad signatures costs one read a minute
    assert secret.get().api_key.get_secret_value() == ROTATED["api_key"]


def test_loaded_values_are_redacted_from_then_on(put_secret: Any) -> None:
    arn = put_secret("stack/hotelbeds", {"api_key": "hb-key-0123456789", "secret": "hb-secret-987654"})
    Secret(arn, HotelbedsSecret, label="hotelbeds").get()
    assert redact("signing with hb-secret-987654 and hb-key-0123456789") == "signing with [REDACTED] and [REDACTED]"


def test_the_cache_serves_until_max_age_or_a_forced_refresh(put_secret: Any) -> None:
    arn = put_secret("stack/stripe-cache", STRIPE)
    cached = Secret(arn, StripeSecret, label="stripe", max_age=300)
    assert cached.get().api_key.get_secret_value() == STRIPE["api_key"]
    put_secret("stack/stripe-cache", ROTATED)
    assert cached.get().api_key.get_secret_value() == STRIPE["api_key"]
    assert cached.get(force=True).api_key.get_secret_value() == ROTATED["api_key"]
    put_secret("stack/stripe-cache", STRIPE)
    uncached = Secret(arn, StripeSecret, label="stripe", max_age=0)
    uncached.get()
    put_secret("stack/stripe-cache", ROTATED)
    assert uncached.get().api_key.get_secret_value() == ROTATED["api_key"]


@pytest.mark.parametrize(
    ("model", "value", "fields"),
    [
        (StripeSecret, {"api_key": "pk_live_notasecretkey99"}, ("api_key",)),
        (StripeSecret, {"webhook_secrets": ["whsec_a0000000000"]}, ("api_key",)),
        (StripeWebhookSecret, {"webhook_secrets": ["nothook-0000000000"]}, ("webhook_secrets",)),
        (StripeWebhookSecret, {"webhook_secrets": []}, ("webhook_secrets",)),
    ],
)
def test_a_malformed_secret_names_the_secret_and_field_never_the_value(
    put_secret: Any, model: Any, value: dict[str, Any], fields: tuple[str, ...]
) -> None:
    arn = put_secret("stack/stripe-bad", value)
    with pytest.raises(ConfigError) as caught:
        Secret(arn, model, label="stripe").get()
    assert caught.value.fields == fields
    assert "stripe" in str(caught.value)
    for text in [value.get("api_key", ""), *value.get("webhook_secrets", [])]:
        assert not text or text not in str(caught.value)


def test_a_secret_that_is_not_json_is_a_config_error(put_secret: Any) -> None:
    arn = put_secret("stack/not-json", "sk_live_plaintextkey0001")
    with pytest.raises(ConfigError) as caught:
        Secret(arn, StripeSecret, label="stripe").get()
    assert "not a JSON object" in str(caught.value)
    assert "sk_live_plaintextkey0001" not in str(caught.value)


def test_a_missing_secret_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError) as caught:
        Secret("stack/absent", StripeSecret, label="stripe").get()
    assert "stack/absent" in str(caught.value)
    assert "ResourceNotFoundException" in str(caught.value)


def test_an_unset_secret_variable_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_SECRET_ARN", raising=False)
    with pytest.raises(ConfigError) as caught:
        Secret.from_env("STRIPE_SECRET_ARN", StripeSecret, label="stripe")
    assert caught.value.fields == ("STRIPE_SECRET_ARN",)


def test_a_malformed_secret_is_read_once_per_max_age_not_once_per_request(put_secret: Any) -> None:
    arn = put_secret("stack/stripe-malformed", {"api_key": ""})
    secret = Secret(arn, StripeSecret, label="stripe", max_age=300)
    with pytest.raises(ConfigError):
        secret.get()
    put_secret("stack/stripe-malformed", STRIPE)
    with pytest.raises(ConfigError):
        secret.get()  # the cached copy: a flood of webhooks is not a flood of Secrets Manager reads
    assert secret.get(force=True).api_key.get_secret_value() == STRIPE["api_key"]
