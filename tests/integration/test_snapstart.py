"""SnapStart's runtime hooks, run in Lambda's order: nothing made before the snapshot is used after a restore.

The layer's hooks (seawall.snapstart) against moto and a real Upstash endpoint
over HTTP, with credentials from a container credentials endpoint as Lambda
gives them to a SnapStart function: before the snapshot nothing is fetched or
connected; after the restore, AWS calls sign with the restored environment's
credentials, secrets read before the snapshot are read again (a state store
built at import included), and two copies restored from one snapshot draw
different jitter.
"""

from __future__ import annotations

import json
import random
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from local.container import run_after_restore, run_before_snapshot
from local.upstash import UpstashEndpoint
from seawall import snapstart
from seawall.aws import aws_client, renew_clients
from seawall.config import Secret
from seawall.providers.stripe.secrets import StripeSecret
from seawall.state import SharedState


class CredentialsEndpoint(BaseHTTPRequestHandler):
    """Lambda's container credentials endpoint: the key it hands out now, and how often it was asked."""

    access_key = "AKIDSNAPSHOTTIME"
    fetched: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        CredentialsEndpoint.fetched.append(self.access_key)
        body = json.dumps(
            {
                "AccessKeyId": CredentialsEndpoint.access_key,
                "SecretAccessKey": "secret",
                "Token": "token",
                "Expiration": "2099-01-01T00:00:00Z",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def lambda_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[CredentialsEndpoint]]:
    """Credentials as a SnapStart function gets them (no key in the environment), in a container of its own."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), CredentialsEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    CredentialsEndpoint.access_key, CredentialsEndpoint.fetched = "AKIDSNAPSHOTTIME", []
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"http://127.0.0.1:{server.server_port}/credentials")
    renew_clients()  # a new container: no session of an earlier test's
    yield CredentialsEndpoint
    server.shutdown()
    monkeypatch.undo()
    renew_clients()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every TCP connection this process opens from now on."""
    opened: list[Any] = []
    connect = socket.socket.connect

    def recording(self: socket.socket, address: Any) -> Any:
        opened.append(address)
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", recording)
    return opened


def signed_with(client: Any) -> str:
    """The access key id the client's next request is signed with."""
    seen: list[Any] = []
    client.meta.events.register("before-send", lambda request, **_: seen.append(request.headers["Authorization"]))
    client.list_queues()
    header = seen[-1]
    return header.decode() if isinstance(header, bytes) else str(header)


def test_before_the_snapshot_nothing_is_fetched_and_after_the_restore_calls_sign_with_new_credentials(
    lambda_credentials: type[CredentialsEndpoint], connections: list[Any]
) -> None:
    snapstart.enable()
    sqs = aws_client("sqs")  # what the init phase makes, without calling it

    run_before_snapshot()
    assert connections == []  # no credentials fetched, nothing connected: none of it is in the snapshot
    assert lambda_credentials.fetched == []

    lambda_credentials.access_key = "AKIDRESTORETIME"
    run_after_restore()
    assert "Credential=AKIDRESTORETIME/" in signed_with(sqs)


def test_a_secret_and_credentials_read_before_the_snapshot_are_read_again_after_the_restore(
    put_secret: Any, lambda_credentials: type[CredentialsEndpoint]
) -> None:
    snapstart.enable()
    sqs = aws_client("sqs")
    arn = put_secret("stack/stripe-snapstart", {"api_key": "sk_test_beforeSNAPSHOT00001"})
    secret = Secret(arn, StripeSecret, label="stripe", max_age=300)
    assert secret.get().api_key.get_secret_value() == "sk_test_beforeSNAPSHOT00001"  # an init that read it
    assert "Credential=AKIDSNAPSHOTTIME/" in signed_with(sqs)
    run_before_snapshot()

    put_secret("stack/stripe-snapstart", {"api_key": "sk_test_afterRESTORE0000002"})
    lambda_credentials.access_key = "AKIDRESTORETIME"
    run_after_restore()

    assert "Credential=AKIDRESTORETIME/" in signed_with(sqs)  # not the credentials the session had cached
    assert secret.get().api_key.get_secret_value() == "sk_test_afterRESTORE0000002"  # not the cached value


def test_a_state_store_built_at_import_reads_its_secret_only_after_the_restore(
    put_secret: Any,
    upstash_endpoint: UpstashEndpoint,
    lambda_credentials: type[CredentialsEndpoint],
    connections: list[Any],
) -> None:
    arn = put_secret("stack/upstash-snapstart", {"url": upstash_endpoint.url, "token": "token-at-publish"})
    snapstart.enable()
    connections.clear()
    store = SharedState.from_env({"STATE_BACKEND": "upstash", "UPSTASH_SECRET_ARN": arn}).upstash  # the init phase
    run_before_snapshot()
    assert connections == []

    put_secret("stack/upstash-snapstart", {"url": upstash_endpoint.url, "token": upstash_endpoint.token})  # rotated
    run_after_restore()
    assert store.execute("SET", "snapstart", "restored") == "OK"  # the rotated token, read after the restore


def test_two_copies_restored_from_one_snapshot_draw_different_jitter() -> None:
    snapstart.enable()
    run_before_snapshot()
    snapshot = random.getstate()

    draws = []
    for _ in range(2):
        random.setstate(snapshot)  # each copy starts from the snapshot's state
        run_after_restore()
        draws.append([random.random() for _ in range(4)])  # noqa: S311
    assert draws[0] != draws[1]

    random.setstate(snapshot)
    unseeded = [random.random() for _ in range(4)]  # noqa: S311
    random.setstate(snapshot)
    # Without the hook, the copies would repeat each other.
    assert unseeded == [random.random() for _ in range(4)]  # noqa: S311
