"""The rate limiter: one behaviour suite on both backends, plus its arithmetic."""

from __future__ import annotations

import bisect
import math
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import valkey
from hypothesis import given
from hypothesis import strategies as st

from local.upstash import UpstashEndpoint
from seawall.deadline import Deadline, bind_deadline
from seawall.errors import ConfigError, DeadlineExceededError, StoreUnavailableError, ThrottledError
from seawall.problems import problem_for
from seawall.ratelimit import Limit, RateLimiter, StorePolicy
from seawall.ratelimit._dynamodb import DynamoDBLimiterStore
from seawall.ratelimit._limits import decide
from seawall.retry import is_retryable
from seawall.state import SharedState
from tests.conftest import LogCapture, json_lines
from tests.support.http_server import ProviderServer, Reply


def scope() -> str:
    return uuid.uuid4().hex


def test_admits_up_to_the_limit_then_refuses_with_retry_after(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("day", 3, 86_400, fixed=True)])  # a window this test will not straddle
    where = scope()
    decisions = [limiter.try_acquire(where) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    refused = decisions[-1]
    assert 0 < refused.retry_after <= 86_400
    assert refused.reset == pytest.approx(time.time() + refused.retry_after, abs=2)
    assert limiter.try_acquire(scope()).allowed  # another scope has its own counters


def test_a_new_window_admits_again(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("second", 2, 1)])
    where = scope()
    while limiter.try_acquire(where).allowed:
        pass
    refused = limiter.try_acquire(where)
    time.sleep(refused.retry_after + 0.05)
    assert limiter.try_acquire(where).allowed


def test_several_limits_refuse_together_and_a_refusal_consumes_nothing(state: SharedState) -> None:
    second, day = Limit("second", 5, 1, burst=4), Limit("day", 3, 86_400, fixed=True)
    limiter = state.rate_limiter("hotelbeds", [second, day])
    where = scope()
    assert [limiter.try_acquire(where).allowed for _ in range(4)] == [True, True, True, False]
    refused = limiter.try_acquire(where)
    assert refused.retry_after > 1  # the daily quota binds, not the per-second limit
    # Had the refusals taken per-second slots, this limiter would now be out of them too.
    per_second_only = state.rate_limiter("hotelbeds", [second])
    assert sum(per_second_only.try_acquire(where).allowed for _ in range(5)) >= 2


def test_waiting_mode_sleeps_until_a_slot_frees(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("second", 1, 1)])
    where = scope()
    limiter.acquire(where)
    assert limiter.acquire(where, wait=math.inf, deadline=Deadline.after(5)).allowed


def test_waiting_never_sleeps_past_the_deadline(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("minute", 1, 60, fixed=True)])
    where = scope()
    limiter.acquire(where)
    wait = limiter.try_acquire(where).retry_after
    with pytest.raises(ThrottledError) as caught:
        limiter.acquire(where, wait=math.inf, deadline=Deadline.after(wait / 2))  # the wait cannot fit
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > wait / 2
    assert not is_retryable(caught.value)  # the retry loop does not retry our own refusal


@pytest.mark.parametrize("policy", ["open", "closed"])
def test_an_unreachable_store_follows_the_policy_loudly(
    store_at: Callable[[str], SharedState], policy: StorePolicy, capsys: pytest.CaptureFixture[str]
) -> None:
    limiter = store_at("http://127.0.0.1:9").rate_limiter("acme", [Limit("second", 10, 1)], on_store_error=policy)
    decision = limiter.try_acquire(scope())
    assert decision.degraded
    assert decision.allowed is (policy == "open")
    (metric,) = [m for m in json_lines(capsys.readouterr().out) if "RateLimiterStoreError" in m]
    assert metric["policy"] == policy


def test_a_slow_store_is_cut_off_by_the_state_timeout(
    store_at: Callable[[str], SharedState], provider: ProviderServer
) -> None:
    provider.replies["/"] = Reply(delay=3)  # far beyond STATE_TIMEOUT_MS
    limiter = store_at(provider.url).rate_limiter("acme", [Limit("second", 10, 1)], on_store_error="closed")
    decision = limiter.try_acquire(scope())
    assert decision.degraded
    assert not decision.allowed
    assert provider.seen  # the store was asked, and did not answer in time


def test_misconfiguration_fails_at_construction() -> None:
    with pytest.raises(ConfigError):
        Limit("second", 0, 1)
    with pytest.raises(ConfigError):
        Limit("second", 1, 0)
    with pytest.raises(ConfigError):
        Limit("", 1, 1)
    with pytest.raises(ConfigError):
        RateLimiter("acme", [], store=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        RateLimiter("acme", [Limit("a", 1, 1), Limit("a", 2, 2)], store=None)  # type: ignore[arg-type]


@st.composite
def limit_strategy(draw: st.DrawFn, name: str = "a") -> Limit:
    limit = draw(st.integers(1, 1000))
    if draw(st.booleans()):
        return Limit(name, limit, draw(st.sampled_from([0.5, 1, 60, 3600, 86_400])), fixed=True)
    window = draw(st.sampled_from([0.01, 0.5, 1, 60, 3600]))
    return Limit(name, limit, window, burst=draw(st.integers(0, limit - 1)))


limits_strategy = st.lists(
    st.sampled_from(["a", "b", "c", "d"]).flatmap(limit_strategy),
    min_size=1,
    max_size=3,
    unique_by=lambda limit: limit.name,
)


@given(limits=limits_strategy, now_ms=st.integers(0, 2**42), data=st.data())
def test_decisions_are_consistent_with_the_states(limits: list[Limit], now_ms: int, data: st.DataObject) -> None:
    # A state as a store returns it: a counter, or a TAT anywhere from long past to a whole window and burst ahead.
    states = [
        data.draw(st.integers(0, limit.limit))
        if limit.fixed
        else data.draw(st.integers(0, now_ms + limit.window_ms + limit.tolerance_ms))
        for limit in limits
    ]
    waits = [limit.wait_ms(state, now_ms) for limit, state in zip(limits, states, strict=True)]
    if not any(waits):  # admitted: the states after the call
        after = [
            state + 1 if limit.fixed else max(state, now_ms) + limit.interval_ms
            for limit, state in zip(limits, states, strict=True)
        ]
        decision = decide(limits, after, True, now_ms)
        assert (decision.allowed, decision.retry_after, decision.turn) == (True, 0.0, now_ms / 1000)
        frees = [limit.free(state, now_ms) for limit, state in zip(limits, after, strict=True)]
        assert decision.remaining == min(frees)
        # The call took one: what may still go at once is one less than before it (never below none).
        assert all(
            limit.free(new, now_ms) == max(0, limit.free(old, now_ms) - 1)
            for limit, old, new in zip(limits, states, after, strict=True)
        )
        assert now_ms < round(decision.reset * 1000) <= now_ms + max(lim.window_ms + lim.tolerance_ms for lim in limits)
    else:
        decision = decide(limits, states, False, now_ms)
        assert (decision.allowed, decision.remaining) == (False, 0)
        assert decision.retry_after * 1000 == pytest.approx(max(waits), abs=1e-3)
        assert max(waits) > 0
        assert decision.reset * 1000 == pytest.approx(now_ms + max(waits), abs=1e-2)


@given(limit=limit_strategy(), now_ms=st.integers(0, 2**42), ahead=st.integers(0, 10**7))
def test_a_turn_taken_ahead_is_the_one_the_state_gave(limit: Limit, now_ms: int, ahead: int) -> None:
    if limit.fixed:
        return
    state = now_ms + limit.tolerance_ms + ahead  # found: the next turn is ``ahead`` ms off
    after = max(state, now_ms) + limit.interval_ms
    decision = decide([limit], [after], True, now_ms)
    assert decision.turn * 1000 - now_ms == pytest.approx(limit.wait_ms(state, now_ms), abs=1e-2) == ahead
    assert decision.remaining == 0


@given(limit=limit_strategy(), gaps=st.lists(st.integers(0, 400), min_size=1, max_size=300))
def test_a_sliding_limit_never_admits_more_than_its_limit_in_any_window(limit: Limit, gaps: list[int]) -> None:
    # GCRA as the stores run it, over arrivals at random gaps: the arithmetic both stores' writes follow.
    if limit.fixed:
        return
    now, tat, admitted = 0, 0, []
    for gap in gaps:
        now += gap
        if limit.wait_ms(tat, now) == 0:
            assert limit.free(tat, now) >= 1
            admitted.append(now)
            tat = max(tat, now) + limit.interval_ms
        else:
            assert limit.free(tat, now) == 0
    for index, first in enumerate(admitted):
        assert bisect.bisect_left(admitted, first + limit.window_ms) - index <= limit.limit
    assert len([at for at in admitted if at == admitted[0]]) <= limit.burst + 1


@given(limit=limit_strategy())
def test_a_sliding_limit_at_full_demand_admits_its_whole_limit_per_window(limit: Limit) -> None:
    # Calls every millisecond for ten windows: all but the rounding of the interval to a millisecond is used.
    if limit.fixed:
        return
    now, tat, admitted = 0, 0, 0
    while now < 10 * limit.window_ms:
        assert limit.wait_ms(tat, now) == 0
        admitted += 1
        tat = max(tat, now) + limit.interval_ms
        now += limit.wait_ms(tat, now)  # the next millisecond a call is admitted
    steady = limit.window_ms / limit.interval_ms  # limit - burst per window, less the rounding
    assert admitted >= limit.burst + math.floor(10 * steady - 1e-9)


@given(window_ms=st.integers(10, 10**8), now_ms=st.integers(0, 2**42))
def test_window_starts_align_and_contain_now(window_ms: int, now_ms: int) -> None:
    limit = Limit("w", 1, window_ms / 1000)
    start = limit.window_start_ms(now_ms)
    assert start % limit.window_ms == 0
    assert start <= now_ms < start + limit.window_ms


def test_a_store_outage_refuses_as_unavailable_not_as_rate_limited(store_at: Callable[[str], SharedState]) -> None:
    limiter = store_at("http://127.0.0.1:9").rate_limiter("acme", [Limit("second", 10, 1)], on_store_error="closed")
    with pytest.raises(StoreUnavailableError) as caught:
        limiter.acquire(scope())
    problem = problem_for(caught.value)
    assert (problem.status, problem.headers) == (503, {"Retry-After": "1"})


@pytest.mark.parametrize("state", ["dynamodb"], indirect=True)
def test_no_time_left_to_ask_the_store_is_the_deadline_not_an_outage(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("second", 10, 1)], on_store_error="closed")
    with bind_deadline(Deadline.after(0.2)), pytest.raises(DeadlineExceededError):  # 504, not 503
        limiter.acquire(scope())


@pytest.mark.parametrize("state", ["upstash"], indirect=True)
def test_a_redis_counter_is_gone_when_its_window_ends(state: SharedState, upstash_endpoint: UpstashEndpoint) -> None:
    # Redis still holds a key at its expiry instant: a counter expiring at its window's end would take the next
    # window's first millisecond, and admit more than the limit in that window.
    where = scope()
    decision = state.rate_limiter("acme", [Limit("minute", 5, 60, fixed=True)]).try_acquire(where)
    expires_at = valkey.Valkey(port=upstash_endpoint.valkey.port).pexpiretime(f"ratelimit:acme:{where}:minute")
    assert expires_at == round(decision.reset * 1000) - 1


def metrics_named(capsys: pytest.CaptureFixture[str], name: str) -> list[dict[str, Any]]:
    return [m for m in json_lines(capsys.readouterr().out) if name in m]


def test_an_exhausted_window_refuses_until_it_ends(state: SharedState, capsys: pytest.CaptureFixture[str]) -> None:
    limiter = state.rate_limiter("hotelbeds", [Limit("day", 50, 86_400, fixed=True)])
    where = scope()
    assert limiter.try_acquire(where).allowed
    marked = limiter.exhaust(where, "day")  # the provider says its quota is spent: another system shares the key
    assert (marked.allowed, marked.remaining, marked.degraded) == (False, 0, False)
    window_left = 86_400 - time.time() % 86_400
    assert marked.retry_after == pytest.approx(window_left, abs=2)
    assert marked.reset == pytest.approx(time.time() + marked.retry_after, abs=2)
    refused = [limiter.try_acquire(where) for _ in range(3)]
    assert not any(decision.allowed for decision in refused)
    assert all(decision.retry_after == pytest.approx(window_left, abs=2) for decision in refused)
    assert all(decision.reset == marked.reset for decision in refused)
    assert limiter.try_acquire(scope()).allowed  # another scope keeps its quota
    assert state.rate_limiter("hotelbeds", [Limit("day", 50, 86_400, fixed=True)]).try_acquire(scope()).allowed
    assert metrics_named(capsys, "RateLimiterStoreError") == []


def test_exhausting_one_limit_leaves_the_others_alone(state: SharedState) -> None:
    second, day = Limit("second", 5, 1, burst=4), Limit("day", 1000, 86_400, fixed=True)
    limiter = state.rate_limiter("hotelbeds", [second, day])
    where = scope()
    assert limiter.try_acquire(where).allowed
    limiter.exhaust(where, "day")
    refused = limiter.try_acquire(where)
    assert not refused.allowed
    assert refused.retry_after > 1  # the daily window binds, not the per-second one
    # The per-second counter was not filled: a limiter of that limit alone still has its slots.
    per_second = state.rate_limiter("hotelbeds", [second]).try_acquire(where)
    assert per_second.allowed
    assert per_second.remaining is not None
    assert per_second.remaining >= 3  # 3 if still in the second of the first call, 4 in the next


def test_exhausting_a_short_window_lasts_only_that_window(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("second", 100, 1), Limit("day", 1000, 86_400, fixed=True)])
    where = scope()
    marked = limiter.exhaust(where, "second")
    assert 0 < marked.retry_after <= 1
    assert not limiter.try_acquire(where).allowed or time.time() >= marked.reset  # unless the second just ended
    time.sleep(max(0.0, marked.reset - time.time()) + 0.05)
    assert limiter.try_acquire(where).allowed


def test_exhausting_an_unknown_limit_is_a_config_error(state: SharedState) -> None:
    with pytest.raises(ConfigError):
        state.rate_limiter("acme", [Limit("day", 10, 86_400, fixed=True)]).exhaust(scope(), "hour")


def test_exhausting_on_an_unreachable_store_still_refuses_loudly(
    store_at: Callable[[str], SharedState], capsys: pytest.CaptureFixture[str]
) -> None:
    limiter = store_at("http://127.0.0.1:9").rate_limiter("acme", [Limit("day", 10, 86_400, fixed=True)])
    decision = limiter.exhaust(scope(), "day")  # no raise: the caller is handling the provider's refusal
    assert (decision.allowed, decision.remaining, decision.degraded) == (False, 0, True)
    assert 0 < decision.retry_after <= 86_400
    (metric,) = metrics_named(capsys, "RateLimiterStoreError")
    assert metric["provider"] == "acme"


def test_exhausting_with_no_time_left_is_the_deadline(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("day", 10, 86_400, fixed=True)])
    with bind_deadline(Deadline.after(0)), pytest.raises(DeadlineExceededError):
        limiter.exhaust(scope(), "day")


@pytest.mark.parametrize("state", ["upstash"], indirect=True)
def test_an_exhausted_redis_counter_expires_with_its_window(
    state: SharedState, upstash_endpoint: UpstashEndpoint
) -> None:
    where = scope()
    decision = state.rate_limiter("acme", [Limit("minute", 5, 60, fixed=True)]).exhaust(where, "minute")
    server = valkey.Valkey(port=upstash_endpoint.valkey.port)
    assert server.get(f"ratelimit:acme:{where}:minute") == b"5"
    assert server.pexpiretime(f"ratelimit:acme:{where}:minute") == round(decision.reset * 1000) - 1
    sliding = state.rate_limiter("acme", [Limit("paced", 5, 60, burst=2)]).exhaust(where, "paced")
    tat = int(server.get(f"ratelimit:acme:{where}:paced:tat") or 0)
    assert tat == round(sliding.reset * 1000) + 40_000  # its turn a whole window off, plus the tolerance (2 x 20 s)
    assert server.pexpiretime(f"ratelimit:acme:{where}:paced:tat") == tat  # gone when reached: idle again


@pytest.mark.parametrize("state", ["dynamodb"], indirect=True)
def test_an_exhausted_dynamodb_tat_outlives_itself_by_the_slack(state: SharedState) -> None:
    where = scope()
    sliding = state.rate_limiter("acme", [Limit("paced", 5, 60, burst=2)]).exhaust(where, "paced")
    key = {"pk": {"S": f"ratelimit:acme:{where}:paced:tat"}}
    item = state.dynamodb.get_item(TableName=state.settings.state_table, Key=key, ConsistentRead=True)["Item"]
    tat = int(item["tat"]["N"])
    assert tat == round(sliding.reset * 1000) + 40_000
    assert int(item["expires_at"]["N"]) == math.ceil(tat / 1000) + 60


def test_usage_reads_each_windows_counter_and_takes_no_slot(state: SharedState) -> None:
    hour, day = Limit("hour", 10, 3600, fixed=True), Limit("day", 3, 86_400, fixed=True)
    limiter = state.rate_limiter("acme", [hour, day])
    where = scope()
    assert [(u.limit, u.used) for u in limiter.usage(where)] == [(hour, 0), (day, 0)]  # nothing counted yet
    limiter.try_acquire(where)
    limiter.try_acquire(where)
    read = limiter.usage(where)
    assert [u.used for u in read] == [2, 2]
    assert [u.used for u in limiter.usage(where)] == [2, 2]  # reading took nothing
    assert [u.reset for u in read] == [u.reset for u in limiter.usage(where)]
    assert time.time() < read[0].reset <= time.time() + 3600
    limiter.exhaust(where, "day")
    assert [u.used for u in limiter.usage(where)] == [2, 3]  # a marked-spent day reads as full
    assert [u.used for u in limiter.usage(scope())] == [0, 0]  # another scope has its own counters


def test_a_lane_that_skips_a_tighter_limit_keeps_its_reserve(state: SharedState) -> None:
    # Five a day in all: searches may take three, bookings four, cancellations all five.
    limits = [
        Limit("day", 5, 86_400, fixed=True),
        Limit("day-bookings", 4, 86_400, fixed=True),
        Limit("day-searches", 3, 86_400, fixed=True),
    ]
    lanes = {"cancel": ["day"], "booking": ["day", "day-bookings"], "search": ["day", "day-bookings", "day-searches"]}
    limiter = state.rate_limiter("acme", limits, lanes=lanes)
    where = scope()
    assert [limiter.try_acquire(where, lane="search").allowed for _ in range(4)] == [True, True, True, False]
    assert limiter.room(where, lane="booking").allowed
    assert not limiter.room(where, lane="search").allowed
    assert [limiter.try_acquire(where, lane="booking").allowed for _ in range(2)] == [True, False]
    assert [limiter.try_acquire(where, lane="cancel").allowed for _ in range(2)] == [True, False]
    assert [usage.used for usage in limiter.usage(where)] == [5, 4, 3]  # refusals took nothing
    refused = limiter.room(where, lane="cancel")
    assert not refused.allowed
    assert 0 < refused.retry_after <= 86_400
    with pytest.raises(ConfigError) as caught:
        limiter.try_acquire(where, lane="nothing")
    assert (caught.value.source, caught.value.fields) == ("rate limiter acme", ("lane",))
    assert str(caught.value) == "rate limiter acme: lane: no lane nothing"
    with pytest.raises(ConfigError):
        state.rate_limiter("acme", limits, lanes={"search": ["hour"]})


# What a store at a dead port raises, by backend: botocore's error, the Upstash client's.
UNREACHABLE = ("EndpointConnectionError", "IntegrationError")


def test_a_refusal_is_counted_per_provider_and_an_admission_is_not(
    state: SharedState, capsys: pytest.CaptureFixture[str]
) -> None:
    limiter = state.rate_limiter("acme", [Limit("day", 1, 86_400, fixed=True)])
    where = scope()
    assert limiter.try_acquire(where).allowed
    assert metrics_named(capsys, "RateLimited") == []
    assert not limiter.try_acquire(where).allowed
    (metric,) = metrics_named(capsys, "RateLimited")
    assert (metric["provider"], metric["RateLimited"]) == ("acme", [1.0])


@pytest.mark.parametrize("policy", ["open", "closed"])
def test_a_decision_by_policy_says_so_in_its_numbers_and_its_log(
    store_at: Callable[[str], SharedState], policy: StorePolicy, logs: LogCapture, capsys: pytest.CaptureFixture[str]
) -> None:
    limiter = store_at("http://127.0.0.1:9").rate_limiter(
        "acme", [Limit("day", 10, 86_400, fixed=True)], on_store_error=policy
    )
    before = time.time()
    decision = limiter.try_acquire(scope())
    if policy == "open":  # admitted now, the store unable to tell what is left
        assert (decision.remaining, decision.retry_after) == (None, 0.0)
        assert before <= decision.reset <= time.time()
    else:  # refused for a second: the store may be back by then
        assert (decision.remaining, decision.retry_after) == (0, 1.0)
        assert before + 1 <= decision.reset <= time.time() + 1
    (line,) = [r for r in logs.records() if r["message"] == "rate limiter store unreachable; applying policy"]
    assert (line["level"], line["provider"], line["policy"]) == ("WARNING", "acme", policy)
    assert line["error"] in UNREACHABLE  # the failure's type, never its text
    (metric,) = metrics_named(capsys, "RateLimiterStoreError")
    assert (metric["provider"], metric["policy"]) == ("acme", policy)


def test_acquire_raises_at_once_without_wait_and_the_refusal_says_when(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("day", 1, 86_400, fixed=True)])
    where = scope()
    assert limiter.acquire(where).allowed
    with pytest.raises(ThrottledError) as caught:
        limiter.acquire(where)  # no wait asked: a day's wait is never slept through
    refused = limiter.try_acquire(where)
    assert caught.value.service == "acme"
    assert "rate limit day reached" in str(caught.value)
    assert caught.value.reset == refused.reset
    assert caught.value.retry_after == pytest.approx(refused.retry_after, abs=2)
    assert [u.used for u in limiter.usage(where)] == [1]  # the refusals took nothing, the admission its slot


def test_acquire_takes_the_slot_of_its_own_scope_and_lane(state: SharedState) -> None:
    limits = [Limit("day", 5, 86_400, fixed=True), Limit("day-searches", 1, 86_400, fixed=True)]
    limiter = state.rate_limiter("acme", limits, lanes={"search": ["day", "day-searches"], "cancel": ["day"]})
    where = scope()
    limiter.acquire(where, lane="search")
    assert [u.used for u in limiter.usage(where)] == [1, 1]
    with pytest.raises(ThrottledError):
        limiter.acquire(where, lane="search")  # the searches' share is spent
    assert limiter.acquire(where, lane="cancel").allowed  # the cancellations' is not
    assert [u.used for u in limiter.usage(where)] == [2, 1]
    assert [u.used for u in limiter.usage(scope())] == [0, 0]


def test_the_default_scope_is_one_scope_for_every_method(state: SharedState) -> None:
    limiter = state.rate_limiter(
        f"acme-{scope()}", [Limit("day", 2, 86_400, fixed=True)]
    )  # a provider of this test alone
    assert limiter.acquire().allowed
    assert [u.used for u in limiter.usage()] == [1]
    assert [u.used for u in limiter.usage("default")] == [1]
    assert limiter.try_acquire("default").allowed
    assert not limiter.room().allowed
    assert not limiter.try_acquire().allowed
    with pytest.raises(ThrottledError):
        limiter.acquire()


def test_a_store_outage_refuses_with_the_store_named_and_a_second_to_wait(
    store_at: Callable[[str], SharedState],
) -> None:
    limiter = store_at("http://127.0.0.1:9").rate_limiter("acme", [Limit("second", 10, 1)], on_store_error="closed")
    with pytest.raises(StoreUnavailableError) as caught:
        limiter.acquire(scope())
    assert (caught.value.store, caught.value.retry_after) == ("rate limiter of acme", 1.0)


def test_an_unknown_limit_is_named_in_the_config_error(state: SharedState) -> None:
    with pytest.raises(ConfigError) as caught:
        state.rate_limiter("acme", [Limit("day", 10, 86_400, fixed=True)]).exhaust(scope(), "hour")
    assert (caught.value.source, caught.value.fields) == ("rate limiter acme", ("limit_name",))
    assert str(caught.value) == "rate limiter acme: limit_name: not a limit of this limiter"


def test_marking_a_window_spent_is_logged(state: SharedState, logs: LogCapture) -> None:
    state.rate_limiter("acme", [Limit("day", 10, 86_400, fixed=True)]).exhaust(scope(), "day")
    (line,) = [r for r in logs.records() if r["message"] == "rate limit window marked exhausted"]
    assert (line["level"], line["provider"], line["limit"]) == ("WARNING", "acme", "day")


def test_a_window_not_marked_spent_is_logged_counted_and_still_ends_when_the_window_does(
    store_at: Callable[[str], SharedState], logs: LogCapture, capsys: pytest.CaptureFixture[str]
) -> None:
    limiter = store_at("http://127.0.0.1:9").rate_limiter(
        "acme", [Limit("day", 10, 86_400, fixed=True)], on_store_error="open"
    )
    decision = limiter.exhaust(scope(), "day")
    window_end = (time.time() // 86_400 + 1) * 86_400  # this container's clock: the store could not say
    assert decision.reset == pytest.approx(window_end, abs=2)
    assert decision.retry_after == pytest.approx(window_end - time.time(), abs=2)
    unmarked = "rate limiter store unreachable; window not marked exhausted"
    (line,) = [r for r in logs.records() if r["message"] == unmarked]
    assert (line["level"], line["provider"], line["limit"]) == ("WARNING", "acme", "day")
    assert line["error"] in UNREACHABLE
    assert "rate limit window marked exhausted" not in [r["message"] for r in logs.records()]
    (metric,) = metrics_named(capsys, "RateLimiterStoreError")
    assert (metric["provider"], metric["policy"]) == ("acme", "open")


@pytest.mark.parametrize("state", ["dynamodb"], indirect=True)
def test_a_dynamodb_counter_is_read_as_last_written_and_expires_after_its_window(state: SharedState) -> None:
    """DynamoDB's default read may miss the latest write; TTL removes a counter a minute after its window."""
    reads: list[dict[str, Any]] = []
    state.dynamodb.meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **_: reads.append(dict(params))
    )
    limiter = state.rate_limiter("acme", [Limit("day", 10, 86_400, fixed=True), Limit("minute", 10, 60, fixed=True)])
    where = scope()
    limiter.try_acquire(where)  # both limits: one transaction
    limiter.usage(where)
    assert [read.get("ConsistentRead") for read in reads] == [True, True]
    end = round(limiter.usage(where)[0].reset)
    key = {"pk": {"S": f"ratelimit:acme:{where}:day:{(end - 86_400) * 1000}"}}
    taken = state.dynamodb.get_item(TableName=state.settings.state_table, Key=key)["Item"]
    assert (taken["count"], taken["expires_at"]) == ({"N": "1"}, {"N": str(end + 60)})
    limiter.exhaust(where, "day")
    marked = state.dynamodb.get_item(TableName=state.settings.state_table, Key=key)["Item"]
    assert (marked["count"], marked["expires_at"]) == ({"N": "10"}, {"N": str(end + 60)})
    untouched = scope()  # a window marked spent before any call: the mark alone sets its expiry
    limiter.exhaust(untouched, "day")
    key = {"pk": {"S": f"ratelimit:acme:{untouched}:day:{(end - 86_400) * 1000}"}}
    marked = state.dynamodb.get_item(TableName=state.settings.state_table, Key=key)["Item"]
    assert (marked["count"], marked["expires_at"]) == ({"N": "10"}, {"N": str(end + 60)})


def test_a_refusal_by_the_shorter_of_several_limits_waits_only_for_its_window(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("minute", 1, 60, fixed=True), Limit("day", 100, 86_400, fixed=True)])
    where = scope()
    admitted = limiter.try_acquire(where)
    minute = limiter.usage(where)[0]
    assert admitted.allowed
    assert admitted.retry_after == 0
    assert admitted.reset in (minute.reset, minute.reset - 60)  # the nearest end: the minute's (or the last one)
    assert admitted.remaining == (None if state.backend == "dynamodb" else 0)  # DynamoDB cannot tell for several
    refused = limiter.try_acquire(where)
    assert (refused.allowed, refused.remaining, refused.degraded) == (False, 0, False)
    assert 0 < refused.retry_after <= 60  # the minute binds; the day has room
    assert refused.reset in (minute.reset, minute.reset - 60)
    assert refused.limit == "minute"


def test_a_refusal_by_every_limit_waits_for_the_longest(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("minute", 1, 60, fixed=True), Limit("day", 1, 86_400, fixed=True)])
    where = scope()
    assert limiter.try_acquire(where).allowed
    refused = limiter.try_acquire(where)
    assert (refused.allowed, refused.remaining, refused.degraded) == (False, 0, False)
    assert refused.reset == limiter.usage(where)[1].reset
    assert refused.retry_after > 60
    assert refused.limit == "day"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Limit("a b", 1, 1), "Limit: name: 1-32 letters, digits, _ or -"),
        (lambda: Limit("x" * 33, 1, 1), "Limit: name: 1-32 letters, digits, _ or -"),
        (lambda: Limit("second", 0, 1), "Limit second: limit: must be at least 1"),
        (lambda: Limit("second", 1, 0.009), "Limit second: window_seconds: must be at least 0.01"),
        (
            lambda: RateLimiter("acme", [], store=None),  # type: ignore[arg-type]
            "rate limiter acme: limits: at least one limit is needed",
        ),
        (
            lambda: RateLimiter("acme", [Limit("a", 1, 1), Limit("a", 2, 2)], store=None),  # type: ignore[arg-type]
            "rate limiter acme: limits: limit names must be unique",
        ),
        (
            lambda: RateLimiter("acme", [Limit("a", 1, 1)], store=None, lanes={"search": []}),  # type: ignore[arg-type]
            "rate limiter acme: lanes: lane search must name limits it has",
        ),
        (
            lambda: RateLimiter(
                "acme",
                [Limit("a", 1, 1)],
                store=None,  # type: ignore[arg-type]
                lanes={"search": ["a", "b"]},
            ),
            "rate limiter acme: lanes: lane search must name limits it has",
        ),
    ],
)
def test_a_misconfiguration_says_what_and_where(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build()
    assert str(caught.value) == message


def test_the_edges_of_a_limit_are_accepted() -> None:
    assert Limit("x" * 32, 1, 0.01).window_ms == 10
    assert Limit("A-z_0", 1, 0.0105).window_ms == 10  # whole milliseconds, rounded
    limits = [Limit("a", 1, 1), Limit("b", 1, 1)]
    limiter = RateLimiter("acme", limits, store=None, lanes={"a": ["a"]})  # type: ignore[arg-type]
    assert [limit.name for limit in limiter.lanes["a"]] == ["a"]


def test_a_limiter_refuses_by_default_when_its_store_is_down(
    store_at: Callable[[str], SharedState], capsys: pytest.CaptureFixture[str]
) -> None:
    unreachable = store_at("http://127.0.0.1:9").rate_limiter("acme", [Limit("day", 10, 86_400, fixed=True)]).store
    limiter = RateLimiter("acme", [Limit("day", 10, 86_400, fixed=True)], unreachable)  # no policy named
    decision = limiter.try_acquire(scope())
    assert (decision.allowed, decision.degraded) == (False, True)
    (metric,) = metrics_named(capsys, "RateLimiterStoreError")
    assert metric["policy"] == "closed"


def test_a_sliding_limit_paces_calls_and_bursts_only_as_asked(state: SharedState) -> None:
    paced = state.rate_limiter("acme", [Limit("minute", 10, 60)])  # one call each 6 s
    where = scope()
    first = paced.try_acquire(where)
    assert (first.allowed, first.remaining) == (True, 0)
    assert first.reset == pytest.approx(time.time() + 6, abs=1)  # whole again when its turn comes round
    refused = paced.try_acquire(where)
    assert (refused.allowed, refused.remaining) == (False, 0)
    assert 5 < refused.retry_after <= 6
    assert refused.reset == pytest.approx(first.reset, abs=0.01)
    bursty = state.rate_limiter("acme", [Limit("burst", 10, 60, burst=4)])  # five at once, then one each 10 s
    decisions = [bursty.try_acquire(where) for _ in range(6)]
    assert [decision.allowed for decision in decisions] == [True] * 5 + [False]
    assert [decision.remaining for decision in decisions] == [4, 3, 2, 1, 0, 0]
    assert 9 < decisions[-1].retry_after <= 10
    (used,) = bursty.usage(where)
    assert used.used == 5  # five turns ahead of the steady pace
    assert used.reset == pytest.approx(decisions[4].reset, abs=1e-3)  # whole again at the TAT the fifth call left
    assert [usage.used for usage in bursty.usage(scope())] == [0]


def test_a_sliding_limit_takes_its_turn_back_after_a_pause(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("second", 5, 1)])
    where = scope()
    assert limiter.try_acquire(where).allowed
    refused = limiter.try_acquire(where)
    assert 0 < refused.retry_after <= 0.2
    time.sleep(0.5)  # idle past its TAT: the next call starts the pace afresh, with no credit saved up
    assert limiter.try_acquire(where).allowed
    assert not limiter.try_acquire(where).allowed


def test_exhausting_a_sliding_limit_refuses_for_a_whole_window(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("minute", 10, 60, burst=4)])
    where = scope()
    marked = limiter.exhaust(where, "minute")
    assert (marked.allowed, marked.degraded) == (False, False)
    assert marked.retry_after == pytest.approx(60, abs=1)
    refused = limiter.try_acquire(where)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(60, abs=1)
    assert not limiter.room(where).allowed
    assert limiter.room(scope()).allowed


@pytest.mark.parametrize("order", ["sliding", "sliding-and-fixed", "fixed-and-sliding"])
@pytest.mark.parametrize("state", ["dynamodb"], indirect=True)
def test_a_dynamodb_container_guesses_a_sliding_limits_branch_and_corrects_a_wrong_guess(
    state: SharedState, order: str
) -> None:
    writes: list[str] = []
    sliding, day = Limit("minute", 10, 60, burst=4), Limit("day", 100, 86_400, fixed=True)
    limits = {"sliding": [sliding], "sliding-and-fixed": [sliding, day], "fixed-and-sliding": [day, sliding]}[order]
    fixed = order != "sliding"
    other = SharedState(state.settings)  # another container: a client and a memory of its own
    for container in (state, other):
        container.dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: writes.append(model.name))
    first, second = state.rate_limiter("acme", limits), other.rate_limiter("acme", limits)
    where = scope()

    def takes(limiter: RateLimiter) -> tuple[bool, int]:
        before = len(writes)
        return limiter.try_acquire(where).allowed, len(writes) - before

    assert takes(first) == (True, 1)  # no TAT yet: guessed idle, rightly
    assert takes(first) == (True, 1)  # its own TAT ahead of now: guessed busy, rightly
    assert takes(second) == (True, 2)  # a new container guesses idle; told busy, it asks again
    assert takes(second) == (True, 1)
    assert takes(first) == (True, 1)
    assert takes(first) == (False, 1)  # five taken: refused at the first answer
    assert takes(second) == (False, 1)
    assert set(writes) == {"TransactWriteItems" if fixed else "UpdateItem"}


def test_a_turn_is_taken_ahead_only_within_what_the_caller_waits_and_only_on_one_sliding_limit(
    state: SharedState,
) -> None:
    limiter = state.rate_limiter("acme", [Limit("minute", 10, 60)])  # one call each 6 s
    where = scope()
    first = limiter.try_acquire(where, within=7)
    assert first.turn == pytest.approx(time.time(), abs=0.5)  # the first turn is now
    ahead = limiter.try_acquire(where, within=7)
    assert ahead.allowed
    assert ahead.turn - first.turn == pytest.approx(6, abs=0.01)  # the next turn, taken: the caller goes then
    refused = limiter.try_acquire(where, within=7)  # the turn after is 12 s off
    assert not refused.allowed
    assert 11 < refused.retry_after <= 12
    both = state.rate_limiter("acme", [Limit("minute", 10, 60), Limit("day", 100, 86_400, fixed=True)])
    other = scope()
    assert both.try_acquire(other, within=7).allowed
    assert not both.try_acquire(other, within=7).allowed  # several limits: no turn is taken ahead
    assert [usage.used for usage in both.usage(other)] == [1, 1]


def test_a_waiting_caller_takes_its_turn_ahead_in_one_round_trip(
    state: SharedState, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = state.rate_limiter("acme", [Limit("second", 4, 1)])  # one call each 250 ms
    asked: list[float] = []
    consume = limiter.store.consume
    monkeypatch.setattr(limiter.store, "consume", lambda *args: asked.append(time.monotonic()) or consume(*args))
    where = scope()
    started = time.monotonic()
    gone = []
    for _ in range(3):
        limiter.acquire(where, wait=1.0)
        gone.append(time.monotonic())
    assert len(asked) == 3  # no asking again after a refusal: each took its turn and slept until it
    assert gone[-1] - started >= 0.49  # the third turn is two paces after the first (less the clock's millisecond)


def test_reading_room_on_an_unreachable_store_follows_the_policy_loudly(
    store_at: Callable[[str], SharedState], logs: LogCapture
) -> None:
    limiter = store_at("http://127.0.0.1:9").rate_limiter("acme", [Limit("day", 10, 86_400, fixed=True)])
    room = limiter.room(scope())
    assert (room.allowed, room.degraded) == (False, True)
    (line,) = [r for r in logs.records() if r["message"] == "rate limiter store unreachable; applying policy"]
    assert line["error"] in UNREACHABLE


@pytest.mark.parametrize("state", ["dynamodb"], indirect=True)
def test_a_dynamodb_tat_item_outlives_the_latest_tat_a_write_can_leave(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("paced", 10, 60, burst=2)])  # a turn each 7.5 s, 15 s early at most
    where = scope()
    key = {"pk": {"S": f"ratelimit:acme:{where}:paced:tat"}}
    for within in (0.0, 30.0):  # idle, then busy with a turn taken up to 30 s ahead
        before_ms = time.time() * 1000
        limiter.try_acquire(where, within=within)
        after_ms = time.time() * 1000
        item = state.dynamodb.get_item(TableName=state.settings.state_table, Key=key, ConsistentRead=True)["Item"]
        # the latest TAT a write at the write's clock (between before and after) can leave, and 60 s of slack
        earliest, last = (math.ceil((t + 15_000 + within * 1000 + 7_500) / 1000) + 60 for t in (before_ms, after_ms))
        assert earliest <= int(item["expires_at"]["N"]) <= last


@pytest.mark.parametrize("with_day", [False, True], ids=["one-write", "transaction"])
@pytest.mark.parametrize("state", ["dynamodb"], indirect=True)
def test_a_tat_gone_before_a_busy_guess_restarts_the_pace(state: SharedState, with_day: bool) -> None:
    day = [Limit("day", 100, 86_400, fixed=True)] if with_day else []
    limiter = state.rate_limiter("acme", [Limit("minute", 10, 60, burst=4), *day])
    where = scope()
    assert limiter.try_acquire(where).allowed  # this container now guesses busy
    key = {"pk": {"S": f"ratelimit:acme:{where}:minute:tat"}}
    state.dynamodb.delete_item(TableName=state.settings.state_table, Key=key)  # as TTL deletes a TAT long passed
    again = limiter.try_acquire(where)  # the busy guess finds no item, and the idle write follows
    assert (again.allowed, again.degraded) == (True, False)
    assert again.remaining == (None if with_day else 4)  # a transaction returns no values


@pytest.mark.parametrize("state", ["dynamodb"], indirect=True)
def test_a_dynamodb_guess_corrected_to_a_turn_ahead_takes_it(state: SharedState) -> None:
    limit = Limit("minute", 10, 60)  # one call each 6 s
    first, second = state.rate_limiter("acme", [limit]), SharedState(state.settings).rate_limiter("acme", [limit])
    where = scope()
    assert first.try_acquire(where).allowed
    ahead = second.try_acquire(where, within=7)  # a new container guesses idle; the TAT is 6 s ahead: within
    assert ahead.allowed
    assert 5 < ahead.turn - time.time() <= 6


@pytest.mark.parametrize("state", ["dynamodb"], indirect=True)
def test_a_store_that_keeps_contradicting_the_guess_ends_in_the_store_policy(
    state: SharedState, monkeypatch: pytest.MonkeyPatch, logs: LogCapture
) -> None:
    limiter = state.rate_limiter("acme", [Limit("minute", 10, 60)], on_store_error="closed")
    attempts: list[int] = []

    def contradicting(updates: list[dict[str, Any]], write_id: str) -> tuple[bool, list[int | None]]:
        attempts.append(len(updates))
        return False, [0]  # refused, yet the TAT found admits now: no TAT ever goes back, so no store answers so

    monkeypatch.setattr(limiter.store, "_write", contradicting)
    decision = limiter.try_acquire(scope())
    assert (decision.allowed, decision.degraded) == (False, True)
    assert attempts == [1, 1]  # one write, and one more per sliding limit: then no loop, the policy
    (line,) = [r for r in logs.records() if r["message"] == "rate limiter store unreachable; applying policy"]
    assert line["error"] == "RuntimeError"


@pytest.mark.parametrize("state", ["dynamodb"], indirect=True)
def test_an_aws_failure_of_the_store_is_logged_with_its_code(
    state: SharedState, monkeypatch: pytest.MonkeyPatch, logs: LogCapture
) -> None:
    from botocore.exceptions import ClientError

    limiter = state.rate_limiter("acme", [Limit("minute", 10, 60)], on_store_error="closed")

    def throttled(updates: list[dict[str, Any]], write_id: str) -> tuple[bool, list[int | None]]:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "UpdateItem")

    monkeypatch.setattr(limiter.store, "_write", throttled)
    assert limiter.try_acquire(scope()).degraded
    (line,) = [r for r in logs.records() if r["message"] == "rate limiter store unreachable; applying policy"]
    assert line["error"] == "ClientError(ThrottlingException)"  # which AWS failure, not only botocore's class


def test_acquire_takes_a_turn_only_as_far_ahead_as_it_may_wait(state: SharedState) -> None:
    limiter = state.rate_limiter("acme", [Limit("paced", 2, 1)])  # one call each 500 ms
    where = scope()
    assert limiter.acquire(where).allowed
    with pytest.raises(ThrottledError):
        limiter.acquire(where)  # no wait asked: the next turn, half a second off, is not taken
    with pytest.raises(ThrottledError):
        limiter.acquire(where, wait=0.2)  # nor when it is further off than the wait
    assert [usage.used for usage in limiter.usage(where)] == [1]  # the refusals took no turn


def test_a_waiting_caller_sleeps_until_its_turn_and_no_longer(
    state: SharedState, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = state.rate_limiter("acme", [Limit("paced", 4, 1)])  # one call each 250 ms
    slept: list[float] = []
    sleep = time.sleep
    monkeypatch.setattr(
        "seawall.ratelimit._limiter.time.sleep", lambda seconds: slept.append(seconds) or sleep(seconds)
    )
    where = scope()
    decisions = [limiter.acquire(where, wait=1.0) for _ in range(3)]
    assert len(slept) == 3  # each call slept once, until its turn (none for the first, whose turn was now)
    assert slept[0] == 0
    assert all(0 < seconds <= 0.25 for seconds in slept[1:])  # what was left of the turn: at most a pace
    assert time.time() >= decisions[-1].turn


def test_a_lane_of_several_limits_waits_by_asking_again(state: SharedState) -> None:
    limits = [Limit("paced", 4, 1), Limit("day", 100, 86_400, fixed=True)]  # several: no turn taken ahead
    limiter = state.rate_limiter("acme", limits)
    where = scope()
    assert limiter.acquire(where, wait=1.0).allowed
    assert limiter.acquire(where, wait=1.0).allowed  # refused, slept the 250 ms the refusal said, asked again
    assert [usage.used for usage in limiter.usage(where)][1] == 2


def test_an_open_policy_admits_at_once_when_the_store_is_down(store_at: Callable[[str], SharedState]) -> None:
    limiter = store_at("http://127.0.0.1:9").rate_limiter("acme", [Limit("paced", 4, 1)], on_store_error="open")
    before = time.time()
    decision = limiter.acquire(scope(), wait=1.0)
    assert (decision.allowed, decision.degraded) == (True, True)
    assert before <= decision.turn <= time.time()  # its turn is now: nothing to sleep for


class RecordingStore:
    """A store that admits everything and keeps how far ahead each decision may take a turn."""

    def __init__(self) -> None:
        self.within: list[int] = []

    def consume(self, key: str, limits: Any, within_ms: int) -> tuple[bool, list[int | None], int]:
        self.within.append(within_ms)
        return True, [None] * len(limits), int(time.time() * 1000)


def test_a_turn_ahead_is_asked_in_milliseconds_and_only_of_one_sliding_limit() -> None:
    store = RecordingStore()
    one = RateLimiter("acme", [Limit("paced", 4, 1)], store)  # type: ignore[arg-type]
    several = RateLimiter("acme", [Limit("paced", 4, 1), Limit("day", 9, 86_400, fixed=True)], store)  # type: ignore[arg-type]
    fixed = RateLimiter("acme", [Limit("day", 9, 86_400, fixed=True)], store)  # type: ignore[arg-type]
    for limiter in (one, several, fixed):
        limiter.try_acquire(within=3.0)
    assert store.within == [3000, 0, 0]


@pytest.mark.parametrize("state", ["dynamodb"], indirect=True)
def test_a_limit_whose_guess_held_keeps_its_guess_while_another_is_corrected(state: SharedState) -> None:
    minute, tenth = Limit("minute", 10, 60, burst=4), Limit("tenth", 10, 1, burst=4)  # a turn each 6 s; 167 ms
    writes: list[str] = []
    other = SharedState(state.settings)
    other.dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: writes.append(model.name))
    lanes = {"both": ["minute", "tenth"], "tenth": ["tenth"]}
    mine, theirs = other.rate_limiter("acme", [minute, tenth], lanes=lanes), state.rate_limiter("acme", [tenth])
    where = scope()
    assert mine.try_acquire(where, lane="both").allowed  # both TATs ahead of now: both guessed busy from here
    time.sleep(0.25)  # the tenth's TAT this container saw has passed: it will guess that one idle
    assert theirs.try_acquire(where).allowed  # another container moves the tenth's TAT ahead again
    before = len(writes)
    assert mine.try_acquire(where, lane="both").allowed
    assert len(writes) - before == 2  # the tenth's guess corrected once; the minute's, right, kept


class SentTwice:
    """A DynamoDB client whose every write reaches the table twice: its first answer lost, the SDK sends it again.

    The second transaction carries a token of its own, so the store's own write id, not DynamoDB's token, must
    recognise it.
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def update_item(self, **request: Any) -> Any:
        self.client.update_item(**request)
        return self.client.update_item(**request)

    def transact_write_items(self, **request: Any) -> Any:
        self.client.transact_write_items(**request)
        return self.client.transact_write_items(**request)


@pytest.mark.parametrize("with_day", [False, True], ids=["sliding", "sliding-and-fixed"])
@pytest.mark.parametrize("state", ["dynamodb"], indirect=True)
def test_a_dynamodb_write_sent_again_takes_one_turn(state: SharedState, with_day: bool) -> None:
    limits = [Limit("minute", 10, 60, burst=4)] + ([Limit("day", 100, 86_400, fixed=True)] if with_day else [])
    limiter = RateLimiter("acme", limits, DynamoDBLimiterStore(SentTwice(state.dynamodb), state.settings.state_table))
    where = scope()
    assert [limiter.try_acquire(where).allowed for _ in range(6)] == [True] * 5 + [False]
    if with_day:
        assert limiter.usage(where)[1].used == 5
