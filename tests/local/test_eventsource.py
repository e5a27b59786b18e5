"""Local event sources outlive a failed read, as Lambda's pollers do."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import EndpointConnectionError

from local.eventsource import poll_until


def test_a_poller_asks_again_after_a_failed_read_and_stops_when_told() -> None:
    stop = threading.Event()
    reads: list[str] = []

    def poll_once() -> int:
        reads.append("read")
        if len(reads) <= 2:  # the queue is unreachable for a while (moto restarting)
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
        if len(reads) == 4:
            stop.set()
        return 1

    poller = threading.Thread(target=poll_until, args=(stop, poll_once, 0.01, "Function"))
    poller.start()
    poller.join(5)
    assert not poller.is_alive()
    assert len(reads) == 4  # two failed reads did not end it; the stop did


def test_a_poller_whose_read_fails_after_the_stop_ends_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()

    def poll_once() -> int:
        stop.set()  # the stack stops while a read is under way
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    poll_until(stop, poll_once, 0.01, "Function")
    assert "reading failed" not in capsys.readouterr().out
