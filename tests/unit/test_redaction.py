"""Secrets never reach a log line."""

from __future__ import annotations

import json

import pytest

import seawall.providers.stripe  # noqa: F401 (teaches redaction Stripe's key shapes, whatever ran before)
from seawall.observability._logging import logger
from seawall.observability._redaction import MASK, redact, register_secret
from tests.conftest import LogCapture


@pytest.mark.parametrize(
    "secret",
    [
        "sk_live_51Habcdefghijklmnop",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "rk_live_51HabcdefRESTRICTED",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH",  # a payment's client secret
        "seti_1Mm8s8LkdIwHu7ix0OXBfTRG_secret_NXDJhV6bQfdmzVf6xm9Zrz9lHOkXpd8",
    ],
)
def test_known_shapes_are_masked_anywhere_in_text(secret: str) -> None:
    assert redact(f"calling with key={secret}, then more") == f"calling with key={MASK}, then more"


def test_bearer_tokens_are_masked() -> None:
    assert redact("Authorization: Bearer eyJhbGciOi.J9.x-y_z") == f"Authorization: {MASK}"


def test_registered_values_are_masked_plain_and_json_escaped() -> None:
    register_secret('upstash-token-"quoted"\\slash')
    text = json.dumps({"token": 'upstash-token-"quoted"\\slash'})
    assert "upstash-token" not in redact(text)
    assert "upstash-token" not in redact('raw upstash-token-"quoted"\\slash')


def test_short_values_are_not_registered() -> None:
    register_secret("true")
    assert redact("true") == "true"


def test_log_lines_are_redacted_in_message_extra_and_traceback(logs: LogCapture) -> None:
    register_secret("hotelbeds-shared-secret-42")
    try:
        raise ValueError("signature of hotelbeds-shared-secret-42 failed")
    except ValueError:
        logger.exception(
            "failed with sk_test_abcdefghijkl",
            extra={"headers": {"Authorization": "Bearer abc.def.ghi"}, "note": "hotelbeds-shared-secret-42"},
        )
    text = logs.text
    assert "hotelbeds-shared-secret-42" not in text
    assert "sk_test_abcdefghijkl" not in text
    assert "abc.def.ghi" not in text
    (record,) = logs.records()
    assert record["message"] == f"failed with {MASK}"
    assert record["note"] == MASK
    assert "ValueError" in record["exception"]
