"""The httpx client factory against a real HTTP server."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel

from seawall.deadline import Deadline, bind_deadline
from seawall.errors import DeadlineExceededError, IntegrationError, ProviderTimeoutError, RateLimitedError
from seawall.http import Timeouts, http_client, parse_payload, request
from seawall.http._client import USER_AGENT
from seawall.observability._redaction import MASK
from tests.conftest import LogCapture, json_lines
from tests.support.http_server import ProviderServer, Reply

FAST = Timeouts(connect=1, read=1, write=1, pool=1)


def test_every_timeout_is_explicit() -> None:
    client = http_client("acme", base_url="http://127.0.0.1:9", timeouts=Timeouts(connect=1, read=2, write=3, pool=4))
    assert client.timeout == httpx.Timeout(connect=1, read=2, write=3, pool=4)


def test_a_kept_client_reuses_its_connection(provider: ProviderServer) -> None:
    provider.replies["/ping"] = Reply()
    client = http_client("acme", base_url=provider.url)
    request(client, "GET", "/ping", service="acme")
    request(client, "GET", "/ping", service="acme")
    assert provider.seen[0].client_port == provider.seen[1].client_port  # same TCP connection


def test_requests_carry_the_user_agent_and_fixed_headers(provider: ProviderServer) -> None:
    provider.replies["/ping"] = Reply()
    client = http_client("acme", base_url=provider.url, headers={"Accept": "application/json"})
    request(client, "GET", "/ping", service="acme")
    assert provider.seen[0].headers["User-Agent"] == USER_AGENT
    assert provider.seen[0].headers["Accept"] == "application/json"


def test_responses_are_logged_and_measured_without_the_query(
    provider: ProviderServer, logs: LogCapture, capsys: pytest.CaptureFixture[str]
) -> None:
    provider.replies["/v1/things"] = Reply()
    client = http_client("acme", base_url=provider.url)
    request(client, "GET", "/v1/things?api_key=sk_test_inquerystring", service="acme")
    (record,) = [r for r in logs.records() if r["message"] == "provider response"]
    assert record["provider"] == "acme"
    assert record["method"] == "GET"
    assert record["host"] == "127.0.0.1"
    assert record["path"] == "/v1/things"
    assert record["status_code"] == 200
    assert record["latency_ms"] >= 0
    assert "sk_test_inquerystring" not in logs.text
    (metric,) = [m for m in json_lines(capsys.readouterr().out) if "ProviderLatency" in m]
    assert metric["provider"] == "acme"
    assert metric["status_class"] == "2xx"


def test_a_slow_provider_raises_a_timeout(provider: ProviderServer) -> None:
    provider.replies["/slow"] = Reply(delay=1.5)
    client = http_client("acme", base_url=provider.url, timeouts=Timeouts(connect=1, read=0.2, write=1, pool=1))
    with pytest.raises(ProviderTimeoutError) as caught:
        request(client, "GET", "/slow", service="acme", timeouts=Timeouts(connect=1, read=0.2, write=1, pool=1))
    assert caught.value.retryable


def test_request_timeouts_never_reach_past_the_deadline(provider: ProviderServer) -> None:
    provider.replies["/slow"] = Reply(delay=1.5)
    client = http_client("acme", base_url=provider.url)
    # The read timeout (10 s) would wait for the answer; the deadline (0.3 s) does not.
    with bind_deadline(Deadline.after(0.3)), pytest.raises(ProviderTimeoutError):
        request(client, "GET", "/slow", service="acme")
    with bind_deadline(Deadline.after(-1)), pytest.raises(DeadlineExceededError):
        request(client, "GET", "/slow", service="acme")


def test_connection_failures_are_retryable_integration_errors() -> None:
    client = http_client("acme", base_url="http://127.0.0.1:9", timeouts=FAST)
    with pytest.raises(IntegrationError) as caught:
        request(client, "GET", "/", service="acme", timeouts=FAST)
    assert caught.value.retryable
    assert caught.value.status_code is None


@pytest.mark.parametrize(
    ("reply", "kind", "retryable", "retry_after"),
    [
        (Reply(503, headers={"Retry-After": "4"}), IntegrationError, True, 4.0),
        (Reply(500, headers={"Acme-Should-Retry": "false"}), IntegrationError, False, None),
        (Reply(409, headers={"Acme-Should-Retry": "true"}), IntegrationError, True, None),
        (Reply(500, headers={"Other-Should-Retry": "false"}), IntegrationError, True, None),
        (Reply(429, headers={"Retry-After": "2"}), RateLimitedError, True, 2.0),
        (Reply(404), IntegrationError, False, None),
    ],
)
def test_non_2xx_answers_become_typed_errors_without_the_body(
    provider: ProviderServer, reply: Reply, kind: type[IntegrationError], retryable: bool, retry_after: float | None
) -> None:
    reply.body = b'{"secret_detail": "do not leak"}'
    provider.replies["/x"] = reply
    client = http_client("acme", base_url=provider.url)
    with pytest.raises(kind) as caught:
        request(client, "GET", "/x", service="acme", advice_headers=("Acme-Should-Retry",))
    assert caught.value.status_code == reply.status
    assert caught.value.retryable is retryable
    assert caught.value.retry_after == retry_after
    assert "do not leak" not in str(caught.value)


class Thing(BaseModel):
    id: str
    amount: int


def test_payload_validation_logs_the_body_once_truncated_and_redacted(logs: LogCapture) -> None:
    body = '{"id": "th_1", "amount": "lots", "key": "sk_live_leakedkey123", "pad": "' + "x" * 5000 + '"}'
    with pytest.raises(IntegrationError) as caught:
        parse_payload(Thing, body, service="acme")
    assert not caught.value.retryable
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    (record,) = logs.records()
    assert record["message"] == "provider response failed validation"
    assert record["errors"] == [{"loc": "amount", "type": "int_parsing"}]
    assert record["body_truncated"] is True
    assert len(record["body"]) <= 2048
    assert "sk_live_leakedkey123" not in logs.text
    assert MASK in record["body"]


def test_valid_payloads_parse_from_bytes_text_or_mappings() -> None:
    assert parse_payload(Thing, b'{"id": "a", "amount": 1}', service="acme") == Thing(id="a", amount=1)
    assert parse_payload(Thing, {"id": "a", "amount": 1, "extra": True}, service="acme").amount == 1
