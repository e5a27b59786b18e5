"""The local runtime keeps Lambda's container model: processes of their own, one event at a time each."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local import runtime
from local.container import REQUEST_LIMIT, REQUEST_TOO_LARGE, RESPONSE_LIMIT, RESPONSE_TOO_LARGE
from local.runtime import Invocation, LocalFunction
from local.stack import LocalStack


@pytest.fixture
def counter(fixture_stack: LocalStack) -> Iterator[LocalFunction]:
    """The counting function with no container running yet."""
    function = fixture_stack.function("CounterFunction")
    function.stop()
    yield function
    function.stop()


def run_together(function: LocalFunction, events: list[dict[str, Any]]) -> list[Invocation]:
    answers: list[Invocation] = []
    threads = [threading.Thread(target=lambda event=event: answers.append(function.run(event))) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_a_container_stays_warm_and_keeps_its_module_state(counter: LocalFunction) -> None:
    first, second = counter.run({}), counter.run({})
    assert (first.cold_start, second.cold_start) == (True, False)
    assert first.init_ms is not None
    assert first.payload["pid"] == second.payload["pid"]
    assert (first.payload["invocations"], second.payload["invocations"]) == (1, 2)


def test_concurrent_events_start_containers_up_to_the_reserved_concurrency(
    counter: LocalFunction, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = run_together(counter, [{"sleep": 0.5}] * 5)
    assert all(answer.error is None for answer in answers)
    pids = {answer.payload["pid"] for answer in answers}
    assert len(pids) == 2  # ReservedConcurrentExecutions: 2 in the template; the rest waited their turn
    assert counter.containers == 2
    assert sum(answer.cold_start for answer in answers) == 2
    assert capsys.readouterr().out.count("CounterFunction: cold start of container") == 2
    # One event at a time each: five invocations, every one counted once in exactly one container.
    counts = sorted(answer.payload["invocations"] for answer in answers)
    assert counts in ([1, 1, 2, 2, 3], [1, 1, 2, 3, 4])


def test_functions_share_no_module_state_and_no_environment(
    fixture_stack: LocalStack, counter: LocalFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_TEST_MARKER", "from the test process")
    answer = counter.run({}).payload
    echo = fixture_stack.function("EchoFunction").invoke({"path": "/x"})
    assert answer["leaked"] is None  # a container has its function's environment, not this process's
    assert answer["invocations"] == 1
    assert '"function_name": "EchoFunction"' in echo["body"]


def test_a_failing_handler_fails_its_invocation_and_the_container_lives_on(counter: LocalFunction) -> None:
    failed = counter.run({"raise": "boom"})
    assert failed.error is not None
    assert (failed.error["errorType"], failed.error["errorMessage"]) == ("RuntimeError", "boom")
    assert "RuntimeError: boom" in failed.logs
    after = counter.run({})
    assert (after.cold_start, after.payload["invocations"]) == (False, 2)


def test_a_timed_out_or_dead_container_is_replaced(counter: LocalFunction) -> None:
    timed_out = counter.run({"sleep": 5})
    assert timed_out.error is not None
    assert timed_out.error == {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 2.00 seconds"}
    after = counter.run({})
    assert after.cold_start
    assert after.payload["remaining_ms"] <= 2000
    exited = counter.run({"exit": True})
    assert exited.error is not None
    assert exited.error["errorType"] == "Runtime.ExitError"
    assert counter.run({}).cold_start


def test_the_gateway_serves_sixty_clients_at_once(fixture_stack: LocalStack) -> None:
    from local.gateway import Gateway

    gateway = Gateway(fixture_stack, port=0)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    statuses: list[int] = []

    def client() -> None:
        statuses.append(httpx.get(f"http://127.0.0.1:{gateway.port}/items/special", timeout=60).status_code)

    try:
        threads = [threading.Thread(target=client) for _ in range(60)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gateway.shutdown()
    assert statuses == [200] * 60


def test_a_snapstart_container_runs_the_runtime_hooks_in_lambdas_order_before_its_first_event(
    fixture_stack: LocalStack,
) -> None:
    function = fixture_stack.function("SnapshotFunction")
    try:
        first, warm = function.run({}), function.run({})
    finally:
        function.stop()
    # Before the snapshot the last registered runs first; after the restore, in order; then the event.
    order = ["before second", "before first", "after first", "after second"]
    assert first.payload == {"hooks": order, "initialization_type": "snap-start"}
    assert first.restore_ms is not None
    assert warm.payload["hooks"] == order  # a warm container is not restored again
    assert warm.restore_ms is None


def test_an_init_past_its_time_fails_the_invocation_and_gives_its_slot_back(
    counter: LocalFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "INIT_TIMEOUT_SECONDS", 0.001)  # no interpreter starts this fast
    for _ in range(counter.config.max_containers + 1):
        late = counter.run({})
        assert late.error is not None
        assert late.error["errorType"] == "Sandbox.Timedout"
    monkeypatch.setattr(runtime, "INIT_TIMEOUT_SECONDS", 10.0)
    answers: list[Invocation] = []
    caller = threading.Thread(target=lambda: answers.append(counter.run({})), daemon=True)
    caller.start()
    caller.join(30)  # with the slots leaked, this call would wait for a container forever
    assert [answer.error for answer in answers] == [None]


def test_an_answer_over_lambdas_6_mb_fails_the_invocation_as_lambda_does(counter: LocalFunction) -> None:
    fits = counter.run({"padding": RESPONSE_LIMIT - 1000})
    assert fits.error is None
    assert len(json.dumps(fits.payload).encode()) <= RESPONSE_LIMIT
    over = counter.run({"padding": RESPONSE_LIMIT})
    assert over.error == RESPONSE_TOO_LARGE
    assert over.payload is None
    assert counter.run({}).payload["pid"] == fits.payload["pid"]  # the container lives on


def test_an_event_over_lambdas_6_mb_is_refused_before_any_container_sees_it(counter: LocalFunction) -> None:
    over = counter.run({"print": "x" * REQUEST_LIMIT})
    assert over.error == REQUEST_TOO_LARGE
    assert counter.containers == 0
    fits = counter.run({"padding": 1, "note": "x" * (REQUEST_LIMIT - 100)})
    assert fits.error is None
