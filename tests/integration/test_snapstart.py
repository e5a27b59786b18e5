"""SnapStart's runtime hooks, run in Lambda's order: nothing made before the snapshot is used after a restore.

The layer's hooks (seawall.snapstart) against moto over HTTP: before the
snapshot nothing is fetched or connected; after the restore, AWS calls sign
with the restored environment's credentials, a secret read before the snapshot
is read again, and two copies restored from one snapshot draw different
jitter.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from local.container import run_after_restore, run_before_snapshot
from seawall import snapstart
from seawall.aws import aws_client
from seawall.config import Secret
from seawall.providers.stripe._secrets import StripeSecret


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
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
    seen: list[str] = []
    client.meta.events.register("before-send", lambda request, **_: seen.append(request.headers["Authorization"]))
    client.list_queues()
    return seen[-1].decode() if isinstance(seen[-1], bytes) else seen[-1]


def test_after_a_restore_no_credential_client_or_secret_from_before_the_snapshot_is_used(
    put_secret: Any, connections: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSNAPSHOTTIME")
    snapstart.enable()
    sqs = aws_client("sqs")
    arn = put_secret("stack/stripe-snapstart", {"api_key": "sk_test_beforeSNAPSHOT00001"})
    secret = Secret(arn, StripeSecret, label="stripe", max_age=300)
    assert secret.get().api_key.get_secret_value() == "sk_test_beforeSNAPSHOT00001"  # an init that read it
    built = sqs.current()
    connections.clear()

    run_before_snapshot()
    assert connections == []  # nothing fetched, no connection in the snapshot

    put_secret("stack/stripe-snapstart", {"api_key": "sk_test_afterRESTORE0000002"})
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDRESTORETIME")
    run_after_restore()

    assert sqs.current() is not built
    assert "Credential=AKIDRESTORETIME/" in signed_with(sqs)
    assert secret.get().api_key.get_secret_value() == "sk_test_afterRESTORE0000002"  # not the cached value


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
