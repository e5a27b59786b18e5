"""The httpx client factory against a real HTTP server."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import BaseModel

from seawall.deadline import Deadline, bind_deadline
from seawall.errors import DeadlineExceededError, IntegrationError, ProviderTimeoutError, RateLimitedError
from seawall.http import Timeouts, http_client, parse_payload, request
from seawall.http._client import USER_AGENT, tls_context
from seawall.observability import register_secret_shape
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
    register_secret_shape(r"\bacme_live_[A-Za-z0-9]+")  # as a provider registers its key format
    body = '{"id": "th_1", "amount": "lots", "key": "acme_live_leakedkey123", "pad": "' + "x" * 5000 + '"}'
    with pytest.raises(IntegrationError) as caught:
        parse_payload(Thing, body, service="acme")
    assert not caught.value.retryable
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    (record,) = logs.records()
    assert record["message"] == "provider response failed validation"
    assert record["errors"] == [{"loc": "amount", "type": "int_parsing"}]
    assert record["body_truncated"] is True
    assert len(record["body"]) <= 2048
    assert "acme_live_leakedkey123" not in logs.text
    assert MASK in record["body"]


def test_valid_payloads_parse_from_bytes_text_or_mappings() -> None:
    assert parse_payload(Thing, b'{"id": "a", "amount": 1}', service="acme") == Thing(id="a", amount=1)
    assert parse_payload(Thing, {"id": "a", "amount": 1, "extra": True}, service="acme").amount == 1


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no CA signed, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_clients_share_one_tls_context_that_verifies_the_server(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}"
        clients = [http_client("acme", base_url=url, timeouts=FAST) for _ in range(2)]
        for client in clients:  # a certificate no trusted CA signed is refused by each client
            with pytest.raises(IntegrationError) as refused:
                request(client, "GET", "/ping", service="acme")
            assert isinstance(refused.value.__cause__, httpx.ConnectError)
            assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value.__cause__)
    finally:
        server.shutdown()
        server.server_close()
    assert tls_context() is tls_context()  # loaded once per container
