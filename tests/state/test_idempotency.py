"""One contract suite for both idempotency persistence layers (Powertools DynamoDB, our Upstash)."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from local.upstash import UpstashEndpoint
from seawall.idempotency import persistence_layer
from seawall.state import upstash_client


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms
        self.function_name = "contract"
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def processor(calls: list[dict[str, Any]], **options: Any) -> Any:
    """An idempotent function over ``order`` (keyed on its id) recording each real run."""
    config = IdempotencyConfig(event_key_jmespath="id", **options)
    config.register_lambda_context(Context(10_000))

    @idempotent_function(data_keyword_argument="order", persistence_store=persistence_layer(), config=config)
    def process(order: dict[str, Any], gate: threading.Event | None = None, fail: bool = False) -> dict[str, Any]:
        if gate is not None:
            gate.wait(10)
        calls.append(order)
        if fail:
            raise RuntimeError("provider failed")
        return {"order": order["id"], "run": len(calls)}

    return process


def order(**fields: Any) -> dict[str, Any]:
    return {"id": f"ord_{uuid.uuid4().hex}", "amount": 100, **fields}


def test_first_call_runs_and_a_duplicate_gets_the_stored_response(backend: str) -> None:
    calls: list[dict[str, Any]] = []
    process = processor(calls)
    first = order()
    assert process(order=first) == {"order": first["id"], "run": 1}
    assert process(order=first) == {"order": first["id"], "run": 1}
    assert len(calls) == 1
    other = order()
    assert process(order=other)["run"] == 2


def test_a_concurrent_duplicate_is_refused_while_the_first_runs(backend: str) -> None:
    calls: list[dict[str, Any]] = []
    process = processor(calls)
    same = order()
    gate = threading.Event()
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(process(order=same, gate=gate)))
    first.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # wait until the first call holds the in-progress record
        try:
            persistence_layer().get_record(same)
            break
        except Exception:
            time.sleep(0.01)
    with pytest.raises(IdempotencyAlreadyInProgressError):
        process(order=same)
    gate.set()
    first.join()
    assert results == [{"order": same["id"], "run": 1}]
    assert len(calls) == 1


def test_a_record_expires_and_the_key_runs_again(backend: str) -> None:
    calls: list[dict[str, Any]] = []
    process = processor(calls, expires_after_seconds=1)
    same = order()
    process(order=same)
    time.sleep(2.1)  # expiry has whole-second resolution
    assert process(order=same)["run"] == 2


def test_the_same_key_with_another_payload_is_refused(backend: str) -> None:
    calls: list[dict[str, Any]] = []
    process = processor(calls, payload_validation_jmespath="amount")
    first = order(amount=100)
    process(order=first)
    with pytest.raises(IdempotencyValidationError):
        process(order={**first, "amount": 999})
    assert len(calls) == 1


def test_a_failed_call_deletes_its_record_so_a_retry_runs(backend: str) -> None:
    calls: list[dict[str, Any]] = []
    process = processor(calls)
    same = order()
    with pytest.raises(RuntimeError):
        process(order=same, fail=True)
    assert process(order=same) == {"order": same["id"], "run": 2}


def test_an_invocation_that_timed_out_blocks_only_until_its_in_progress_expiry(backend: str) -> None:
    calls: list[dict[str, Any]] = []
    process = processor(calls)
    same = order()
    # A previous invocation took the record with 300 ms left and was killed: nothing deletes it.
    store = persistence_layer()
    store.configure(IdempotencyConfig(event_key_jmespath="id"), function_name=f"{__name__}.processor.<locals>.process")
    store.save_inprogress(data=same, remaining_time_in_millis=300)
    with pytest.raises(IdempotencyAlreadyInProgressError):
        process(order=same)
    time.sleep(0.4)
    assert process(order=same)["run"] == 1
    assert process(order=same)["run"] == 1


@pytest.mark.parametrize("backend", ["upstash"], indirect=True)
def test_a_lost_upstash_answer_is_not_resent(backend: str, upstash_endpoint: UpstashEndpoint) -> None:
    client = upstash_client()
    key = f"counter:{uuid.uuid4().hex}"
    upstash_endpoint.drop_answers = 1
    with pytest.raises(httpx.TransportError):
        client.incr(key)
    assert client.get(key) == "1"  # applied once; the SDK did not send it again
