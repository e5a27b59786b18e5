"""The shared cache: one behaviour suite on both backends (real moto, real Valkey behind the Upstash endpoint)."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import valkey

from local.upstash import UpstashEndpoint
from seawall.cache import SharedCache
from seawall.cache._cache import MAX_STORED_BYTES
from seawall.deadline import Deadline, bind_deadline
from seawall.errors import ConfigError, DeadlineExceededError
from seawall.state import SharedState
from tests.conftest import json_lines


def key() -> str:
    return f"search-{uuid.uuid4().hex}"


def metrics(text: str, name: str) -> list[dict[str, Any]]:
    return [line for line in json_lines(text) if name in line]


def test_bytes_and_json_round_trip(state: SharedState, capsys: pytest.CaptureFixture[str]) -> None:
    cache = state.cache("availability", 60)
    raw, structured = key(), key()
    cache.put(raw, b"\x00\xffnot text\x80")
    cache.put_json(structured, {"hotels": [{"code": 1, "rate": "120.50"}], "total": 1})
    assert cache.get(raw) == b"\x00\xffnot text\x80"
    assert cache.get_json(structured) == {"hotels": [{"code": 1, "rate": "120.50"}], "total": 1}
    out = capsys.readouterr().out
    assert [m["cache"] for m in metrics(out, "CacheHit")] == ["availability", "availability"]
    assert metrics(out, "CacheMiss") == []


def test_an_unknown_key_is_a_miss(state: SharedState, capsys: pytest.CaptureFixture[str]) -> None:
    cache = state.cache("availability", 60)
    assert cache.get(key()) is None
    assert cache.get_json(key()) is None
    out = capsys.readouterr().out
    assert [m["cache"] for m in metrics(out, "CacheMiss")] == ["availability", "availability"]
    assert metrics(out, "CacheHit") == []


def test_an_entry_expires_after_its_ttl(state: SharedState) -> None:
    cache = state.cache("availability", 0.5)
    where = key()
    cache.put(where, b"rates")
    assert cache.get(where) == b"rates"
    time.sleep(0.6)
    assert cache.get(where) is None  # on DynamoDB, long before TTL would delete the item


def test_a_later_put_replaces_the_entry(state: SharedState) -> None:
    cache = state.cache("availability", 60)
    where = key()
    cache.put_json(where, [1])
    cache.put_json(where, [2])
    assert cache.get_json(where) == [2]


def test_caches_of_other_names_do_not_share_entries(state: SharedState) -> None:
    where = key()
    state.cache("availability", 60).put(where, b"rates")
    assert state.cache("content", 60).get(where) is None


def test_two_containers_share_entries(state: SharedState, backend_environments: dict[str, dict[str, str]]) -> None:
    first = state.cache("availability", 60)
    second = SharedState.from_env(backend_environments[state.backend]).cache("availability", 60)
    one, other = key(), key()
    first.put_json(one, {"from": "first"})
    second.put_json(other, {"from": "second"})
    assert second.get_json(one) == {"from": "first"}
    assert first.get_json(other) == {"from": "second"}


def test_any_string_is_a_key(state: SharedState) -> None:
    cache = state.cache("availability", 60)
    long_key = "destination=PMI&" + "x" * 5000 + "&pax=2 adults ✓ \n"
    cache.put(long_key, b"rates")
    assert cache.get(long_key) == b"rates"
    assert cache.get(long_key + " ") is None


@pytest.mark.parametrize("state", ["upstash"], indirect=True)
def test_the_store_holds_the_hashed_key_and_the_ttl(state: SharedState, upstash_endpoint: UpstashEndpoint) -> None:
    cache = state.cache("availability", 30)
    where = key()
    cache.put(where, b"rates")
    stored = f"cache:availability:{hashlib.sha256(where.encode()).hexdigest()}"
    assert cache.store_key(where) == stored
    ttl_ms = int(valkey.Valkey(port=upstash_endpoint.valkey.port).pttl(stored))  # type: ignore[arg-type]
    assert 29_000 < ttl_ms <= 30_000


def test_a_large_value_that_fits_is_stored(state: SharedState) -> None:
    cache = state.cache("availability", 60)
    where, value = key(), os.urandom(MAX_STORED_BYTES - 1000)  # random bytes do not compress
    cache.put(where, value)
    assert cache.get(where) == value


def test_a_compressible_value_counts_its_compressed_size(state: SharedState) -> None:
    cache = state.cache("availability", 60)
    where, value = key(), b"{}" * MAX_STORED_BYTES  # 700 KB of JSON-like text, a few KB compressed
    cache.put(where, value)
    assert cache.get(where) == value


def test_an_oversize_value_is_skipped_loudly(state: SharedState, capsys: pytest.CaptureFixture[str]) -> None:
    cache = state.cache("availability", 60)
    where = key()
    cache.put(where, os.urandom(MAX_STORED_BYTES + 1000))
    assert cache.get(where) is None
    out = capsys.readouterr().out
    assert [m["cache"] for m in metrics(out, "CacheSkipped")] == ["availability"]
    assert metrics(out, "CacheStoreError") == []


def test_an_unreachable_store_is_a_miss_not_an_error(
    store_at: Callable[[str], SharedState], capsys: pytest.CaptureFixture[str]
) -> None:
    cache = store_at("http://127.0.0.1:9").cache("availability", 60)
    where = key()
    cache.put_json(where, {"secret-ish": "value-never-logged"})  # ignored
    assert cache.get_json(where) is None
    out = capsys.readouterr().out
    assert [m["cache"] for m in metrics(out, "CacheStoreError")] == ["availability", "availability"]
    assert [m["cache"] for m in metrics(out, "CacheMiss")] == ["availability"]
    assert "value-never-logged" not in out
    assert where not in out


@pytest.mark.parametrize("state", ["upstash"], indirect=True)
def test_a_lost_answer_is_a_miss(state: SharedState, upstash_endpoint: UpstashEndpoint) -> None:
    cache = state.cache("availability", 60)
    where = key()
    cache.put(where, b"rates")
    upstash_endpoint.drop_answers = 1
    assert cache.get(where) is None
    assert cache.get(where) == b"rates"  # the next request is answered


@pytest.mark.parametrize("state", ["dynamodb"], indirect=True)
def test_an_outage_of_dynamodb_is_a_miss(state: SharedState, moto_server: Any) -> None:
    cache = state.cache("availability", 60)
    where = key()
    cache.put(where, b"rates")
    moto_server.down = {"dynamodb"}
    try:
        assert cache.get(where) is None
        cache.put(key(), b"more rates")  # ignored
    finally:
        moto_server.down = set()
    assert cache.get(where) == b"rates"


def test_no_time_left_is_the_deadline_not_a_miss(state: SharedState) -> None:
    cache = state.cache("availability", 60)
    with bind_deadline(Deadline.after(0)), pytest.raises(DeadlineExceededError):
        cache.get(key())
    with bind_deadline(Deadline.after(0)), pytest.raises(DeadlineExceededError):
        cache.put(key(), b"rates")


@pytest.mark.parametrize("name", ["", "a" * 33, "has space", "colon:", "ünï"])
def test_a_bad_name_is_a_config_error(name: str) -> None:
    with pytest.raises(ConfigError):
        SharedCache(name, 60, store=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("ttl", [0, -1, 0.0001, float("inf"), float("nan")])
def test_a_bad_ttl_is_a_config_error(ttl: float) -> None:
    with pytest.raises(ConfigError):
        SharedCache("availability", ttl, store=None)  # type: ignore[arg-type]


def test_a_bad_name_from_the_state_is_a_config_error(state: SharedState) -> None:
    with pytest.raises(ConfigError):
        state.cache("bad name", 60)
    with pytest.raises(ConfigError):
        state.cache("availability", 0)
