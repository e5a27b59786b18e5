"""AWS SDK clients never outlive the invocation: bounded attempts, none started past the deadline."""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall.aws import ClientTimeouts, aws_client, configure_session
from seawall.deadline import Deadline, bind_deadline
from seawall.errors import DeadlineExceededError
from tests.support.http_server import ProviderServer, Reply


def test_a_call_that_could_not_finish_before_the_deadline_is_not_sent(
    provider: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", provider.url)
    sqs = aws_client("sqs", ClientTimeouts(connect=1, read=3))
    with bind_deadline(Deadline.after(2)), pytest.raises(DeadlineExceededError):
        sqs.list_queues()
    assert provider.seen == []


def test_a_slow_answer_is_cut_off_and_the_retries_stop_at_the_deadline(
    provider: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider.replies["/"] = Reply(delay=3)  # every attempt times out
    monkeypatch.setenv("AWS_ENDPOINT_URL", provider.url)
    sqs = aws_client("sqs", ClientTimeouts(connect=0.5, read=0.5, attempts=5))
    # Botocore alone would try five times; each attempt needs a second, so the deadline allows at most two.
    with bind_deadline(Deadline.after(1.8)), pytest.raises(DeadlineExceededError):
        sqs.list_queues()
    assert 1 <= len(provider.seen) <= 2


def test_clients_have_explicit_timeouts_and_attempts() -> None:
    config = aws_client("dynamodb", ClientTimeouts(connect=0.8, read=0.8, attempts=2)).meta.config
    assert (config.connect_timeout, config.read_timeout) == (0.8, 0.8)
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}


def test_a_profile_configured_for_the_session_wins_over_keys_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[ops]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = secret\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT")
    signed: list[str] = []
    try:
        configure_session(profile="ops")  # what `python -m ops --profile ops` does for the layer's clients
        sqs = aws_client("sqs")
        sqs.meta.events.register(
            "before-send", lambda request, **_: signed.append(str(request.headers["Authorization"]))
        )
        sqs.list_queues()
    finally:
        configure_session()
    assert "Credential=AKIDFROMPROFILE/" in signed[0]
