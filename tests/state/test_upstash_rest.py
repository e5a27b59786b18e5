"""The layer's Upstash REST client against the Upstash wire protocol, read back through the upstash-redis SDK.

The stores use the layer's client (it has timeouts; the SDK's cannot be given
any), so what they write must mean the same to anyone reading with the SDK,
and the other way round.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from upstash_redis import Redis

from local.upstash import UpstashEndpoint
from seawall.deadline import Deadline, bind_deadline
from seawall.errors import DeadlineExceededError, IntegrationError, ProviderTimeoutError
from seawall.state._upstash import UpstashRest


@pytest.fixture
def ours(upstash_endpoint: UpstashEndpoint) -> Iterator[UpstashRest]:
    upstash_endpoint.delay, upstash_endpoint.drop_answers = 0.0, 0
    yield UpstashRest.at(upstash_endpoint.url, upstash_endpoint.token, 0.5)
    upstash_endpoint.delay, upstash_endpoint.drop_answers = 0.0, 0


@pytest.fixture
def sdk(upstash_endpoint: UpstashEndpoint) -> Redis:
    return Redis(url=upstash_endpoint.url, token=upstash_endpoint.token, rest_retries=0, allow_telemetry=False)


def key() -> str:
    return f"rest:{uuid.uuid4().hex}"


def test_what_one_writes_the_other_reads(ours: UpstashRest, sdk: Redis) -> None:
    first, second = key(), key()
    assert ours.set(first, '{"status": "COMPLETED", "note": "é"}', px=60_000)
    assert sdk.get(first) == '{"status": "COMPLETED", "note": "é"}'
    assert 0 < sdk.pttl(first) <= 60_000
    sdk.set(second, "from the sdk")
    assert ours.get(second) == "from the sdk"
    assert ours.get(key()) is None


def test_set_if_absent_takes_a_key_once(ours: UpstashRest, sdk: Redis) -> None:
    name = key()
    assert ours.set(name, "first", nx=True, px=60_000)
    assert not ours.set(name, "second", nx=True, px=60_000)
    assert sdk.get(name) == "first"


def test_hashes_scripts_and_deletes_agree_with_the_sdk(ours: UpstashRest, sdk: Redis) -> None:
    name = key()
    sdk.hset(name, values={"state": "open", "n0": "3"})
    assert ours.hgetall(name) == sdk.hgetall(name) == {"state": "open", "n0": "3"}
    script = "return {redis.call('HINCRBY', KEYS[1], 'n0', ARGV[1]), ARGV[2]}"
    assert ours.eval(script, keys=[name], args=[2, "x"]) == [5, "x"]
    assert sdk.hget(name, "n0") == "5"
    assert ours.delete(name) == 1
    assert sdk.exists(name) == 0
    assert ours.hgetall(name) == {}


def test_a_redis_error_is_a_typed_error_without_the_servers_words(ours: UpstashRest) -> None:
    name = key()
    ours.set(name, "text")
    with pytest.raises(IntegrationError) as caught:
        ours.execute("INCR", name)
    assert caught.value.service == "upstash"
    assert "not an integer" not in str(caught.value)


def test_a_slow_answer_is_cut_off_by_the_timeout(ours: UpstashRest, upstash_endpoint: UpstashEndpoint) -> None:
    upstash_endpoint.delay = 1.5
    with pytest.raises(ProviderTimeoutError):
        ours.get(key())


def test_no_time_left_sends_nothing(ours: UpstashRest, sdk: Redis) -> None:
    name = key()
    with bind_deadline(Deadline.after(-1)), pytest.raises(DeadlineExceededError):
        ours.set(name, "never")
    assert sdk.get(name) is None
