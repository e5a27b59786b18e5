"""One contract suite for both idempotency persistence layers (Powertools DynamoDB, our Upstash)."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyKeyError,
    IdempotencyValidationError,
)

from local.aws import MotoServer
from local.upstash import UpstashEndpoint
from seawall.errors import IntegrationError, ProviderTimeoutError
from seawall.idempotency import IdempotentAction
from seawall.problems import ProblemError
from seawall.state import SharedState


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms
        self.function_name = "contract"
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def processor(state: SharedState, calls: list[dict[str, Any]], **options: Any) -> Any:
    """An idempotent function over ``order`` (keyed on its id) recording each real run."""
    config = IdempotencyConfig(event_key_jmespath="id", raise_on_no_idempotency_key=True, **options)
    config.register_lambda_context(Context(10_000))
    store = state.persistence_layer()

    @idempotent_function(data_keyword_argument="order", persistence_store=store, config=config)
    def process(order: dict[str, Any], gate: threading.Event | None = None, fail: bool = False) -> dict[str, Any]:
        if gate is not None:
            gate.wait(10)
        calls.append(order)
        if fail:
            raise RuntimeError("provider failed")
        return {"order": order["id"], "run": len(calls)}

    process.store = store  # type: ignore[attr-defined]
    return process


def taken_by_a_dead_invocation(state: SharedState, same: dict[str, Any], *, remaining_ms: int) -> None:
    """``processor``'s record for ``same``, taken by an invocation with ``remaining_ms`` left, then killed."""
    store = state.persistence_layer()
    store.configure(IdempotencyConfig(event_key_jmespath="id"), function_name=f"{__name__}.processor.<locals>.process")
    store.save_inprogress(data=same, remaining_time_in_millis=remaining_ms)


def order(**fields: Any) -> dict[str, Any]:
    return {"id": f"ord_{uuid.uuid4().hex}", "amount": 100, **fields}


def test_first_call_runs_and_a_duplicate_gets_the_stored_response(state: SharedState) -> None:
    calls: list[dict[str, Any]] = []
    process = processor(state, calls)
    first = order()
    assert process(order=first) == {"order": first["id"], "run": 1}
    assert process(order=first) == {"order": first["id"], "run": 1}
    assert len(calls) == 1
    other = order()
    assert process(order=other)["run"] == 2


def test_a_concurrent_duplicate_is_refused_while_the_first_runs(state: SharedState) -> None:
    calls: list[dict[str, Any]] = []
    process = processor(state, calls)
    same = order()
    gate = threading.Event()
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(process(order=same, gate=gate)))
    first.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # wait until the first call holds the in-progress record
        try:
            process.store.get_record(same)
            break
        except Exception:
            time.sleep(0.01)
    with pytest.raises(IdempotencyAlreadyInProgressError):
        process(order=same)
    gate.set()
    first.join()
    assert results == [{"order": same["id"], "run": 1}]
    assert len(calls) == 1


def test_a_record_expires_and_the_key_runs_again(state: SharedState) -> None:
    calls: list[dict[str, Any]] = []
    process = processor(state, calls, expires_after_seconds=1)
    same = order()
    process(order=same)
    time.sleep(2.1)  # expiry has whole-second resolution
    assert process(order=same)["run"] == 2


def test_the_same_key_with_another_payload_is_refused(state: SharedState) -> None:
    calls: list[dict[str, Any]] = []
    process = processor(state, calls, payload_validation_jmespath="amount")
    first = order(amount=100)
    process(order=first)
    with pytest.raises(IdempotencyValidationError):
        process(order={**first, "amount": 999})
    assert len(calls) == 1


def test_a_failed_call_deletes_its_record_so_a_retry_runs(state: SharedState) -> None:
    calls: list[dict[str, Any]] = []
    process = processor(state, calls)
    same = order()
    with pytest.raises(RuntimeError):
        process(order=same, fail=True)
    assert process(order=same) == {"order": same["id"], "run": 2}


def test_an_invocation_that_timed_out_blocks_only_until_its_in_progress_expiry(state: SharedState) -> None:
    calls: list[dict[str, Any]] = []
    process = processor(state, calls)
    same = order()
    taken_by_a_dead_invocation(state, same, remaining_ms=300)
    with pytest.raises(IdempotencyAlreadyInProgressError):
        process(order=same)
    time.sleep(0.4)
    assert process(order=same)["run"] == 1
    assert process(order=same)["run"] == 1


@pytest.mark.parametrize("state", ["upstash"], indirect=True)
def test_a_lost_upstash_answer_is_not_resent(state: SharedState, upstash_endpoint: UpstashEndpoint) -> None:
    client = state.upstash
    key = f"counter:{uuid.uuid4().hex}"
    upstash_endpoint.drop_answers = 1
    with pytest.raises(IntegrationError) as caught:
        client.execute("INCR", key)
    assert caught.value.retryable  # a transport failure, typed: the caller's policy decides, not the client
    assert client.get(key) == "1"  # applied once; the client did not send it again


def test_each_idempotent_action_keeps_its_own_configuration_in_one_container(state: SharedState) -> None:
    # Powertools configures a persistence layer once: had the two actions shared one, the second would
    # run with the first one's expiry.
    brief = IdempotentAction("brief", state, expires_after_seconds=1)
    lasting = IdempotentAction("lasting", state, expires_after_seconds=3600)
    for action in (brief, lasting):
        action.register(Context(10_000))  # type: ignore[arg-type]
    runs: list[str] = []

    def act(name: str) -> dict[str, Any]:
        runs.append(name)
        return {"run": len(runs)}

    caller, key = "arn:aws:iam::123456789012:user/a", uuid.uuid4().hex
    assert brief.run(caller, key, {"x": 1}, lambda: act("brief")) == {"run": 1}
    assert lasting.run(caller, key, {"x": 1}, lambda: act("lasting")) == {"run": 2}
    assert lasting.run(caller, key, {"x": 1}, lambda: act("lasting")) == {"run": 2}
    with pytest.raises(ProblemError) as caught:
        lasting.run(caller, key, {"x": 2}, lambda: act("lasting"))
    assert caught.value.problem.status == 422
    time.sleep(2.1)  # brief's records expire (whole seconds), lasting's do not
    assert brief.run(caller, key, {"x": 1}, lambda: act("brief")) == {"run": 3}
    assert lasting.run(caller, key, {"x": 1}, lambda: act("lasting")) == {"run": 2}
    assert runs == ["brief", "lasting", "brief"]


def test_records_and_provider_keys_belong_to_the_caller(state: SharedState) -> None:
    action = IdempotentAction("create", state)
    action.register(Context(10_000))  # type: ignore[arg-type]
    alice, bob = "arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/bob"
    key, body = uuid.uuid4().hex, {"amount": 100}
    made: list[str] = []

    def create(caller: str) -> dict[str, Any]:
        made.append(action.provider_key(caller, key))
        return {"secret": f"for {caller}"}

    assert action.run(alice, key, body, lambda: create(alice)) == {"secret": f"for {alice}"}
    assert action.run(bob, key, body, lambda: create(bob)) == {"secret": f"for {bob}"}  # not alice's answer
    assert action.run(alice, key, body, lambda: create(alice)) == {"secret": f"for {alice}"}
    assert len(made) == 2
    assert made[0] != made[1]  # nor the same key at the provider
    assert all(len(provider_key) <= 255 and "alice" not in provider_key for provider_key in made)


def test_a_missing_idempotency_key_is_an_error_not_a_silent_skip(state: SharedState) -> None:
    calls: list[dict[str, Any]] = []
    process = processor(state, calls)
    with pytest.raises(IdempotencyKeyError):
        process(order={"amount": 100})  # no id: the key path finds nothing
    assert calls == []


def test_a_failed_action_whose_record_cannot_be_removed_answers_with_its_own_failure(
    state: SharedState, moto_server: MotoServer, upstash_endpoint: UpstashEndpoint
) -> None:
    action = IdempotentAction("lost-cleanup", state)
    action.register(Context(2_000))  # type: ignore[arg-type]

    def times_out_then_the_store_goes() -> dict[str, Any]:
        if state.backend == "dynamodb":
            moto_server.down.add("dynamodb")
        else:
            upstash_endpoint.delay = 2  # beyond STATE_TIMEOUT_MS
        raise ProviderTimeoutError("stripe")

    try:
        with pytest.raises(ProviderTimeoutError):  # 504 for the caller, not the store's 503
            action.run("arn:aws:iam::123456789012:user/a", uuid.uuid4().hex, {}, times_out_then_the_store_goes)
    finally:
        moto_server.down.discard("dynamodb")
        upstash_endpoint.delay = 0


def test_an_orphaned_in_progress_record_is_taken_over_by_exactly_one_of_many(state: SharedState) -> None:
    """Many containers find a record whose invocation died: one takes it over (compare-and-set), the rest wait."""
    calls: list[dict[str, Any]] = []
    process = processor(state, calls)
    same = order()
    taken_by_a_dead_invocation(state, same, remaining_ms=1)
    time.sleep(0.05)  # its in-progress expiry has passed: nothing else will ever delete it
    start, gate, refused = threading.Barrier(8), threading.Event(), []

    def take_over() -> None:
        start.wait()
        try:
            process(order=same, gate=gate)  # the one that took it over holds it until the gate opens
        except IdempotencyAlreadyInProgressError:
            refused.append(1)

    threads = [threading.Thread(target=take_over) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    gate.set()
    for thread in threads:
        thread.join()
    assert (len(calls), len(refused)) == (1, 7)
