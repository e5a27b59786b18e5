"""The rate limiter: one store round trip per decision, an explicit policy when the store is down."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

from seawall.deadline import Deadline, current_deadline
from seawall.errors import ConfigError, DeadlineExceededError, StoreUnavailableError, ThrottledError
from seawall.observability._logging import error_name, logger
from seawall.observability._metrics import emit
from seawall.ratelimit._limits import Decision, Limit, Usage, decide, usage, validate_limits

StorePolicy = Literal["open", "closed"]

# When the store is down and the policy refuses, callers are told to come back after this long.
_DEGRADED_RETRY_AFTER = 1.0
# A waiting caller takes its turn at most this far ahead (and sleeps until it) rather than asking again: a
# turn taken is spent even if the caller dies first, and nobody holds one long.
TURN_HORIZON_SECONDS = 1.0


class LimiterStore(Protocol):
    """Counts a decision atomically: every limit takes the call, or none does."""

    def consume(self, key: str, limits: Sequence[Limit], within_ms: int) -> tuple[bool, list[int | None], int]:
        """Returns (allowed, each limit's state after or as found, the store's time in ms).

        A sliding limit whose turn is at most ``within_ms`` ahead takes it (its state moves past it).
        """
        ...

    def exhaust(self, key: str, limit: Limit) -> int:
        """Set ``limit``'s state to :meth:`Limit.exhausted_state`; returns the store's time in ms."""
        ...

    def usage(self, key: str, limits: Sequence[Limit]) -> tuple[list[int], int]:
        """Each limit's state (0 when none), read without taking a call; and the store's time in ms."""
        ...


class RateLimiter:
    """Limits calls to ``provider`` per scope (an account, an API key, ...), fleet-wide.

    ``on_store_error`` is the policy when the store cannot be reached: ``"open"``
    admits the call, ``"closed"`` refuses it. Either way it is logged and
    counted (``RateLimiterStoreError``), never silent.

    ``lanes`` name the limits each class of call takes (by default, all of
    them): a lane that skips a tighter limit keeps a share the others cannot
    spend (a provider's cancellations, beside its searches). A lane's limits
    are taken atomically, as every decision's are.
    """

    def __init__(
        self,
        provider: str,
        limits: Sequence[Limit],
        store: LimiterStore,
        *,
        on_store_error: StorePolicy = "closed",
        lanes: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        validate_limits(limits, f"rate limiter {provider}")
        self.provider = provider
        self.limits = tuple(limits)
        self.store = store
        self.on_store_error = on_store_error
        by_name = {limit.name: limit for limit in self.limits}
        self.lanes: dict[str, tuple[Limit, ...]] = {}
        for lane, names in (lanes or {}).items():
            if not names or set(names) - set(by_name):
                raise ConfigError(f"rate limiter {provider}", ["lanes"], f"lane {lane} must name limits it has")
            self.lanes[lane] = tuple(by_name[name] for name in names)

    def _lane(self, lane: str | None) -> tuple[Limit, ...]:
        if lane is None:
            return self.limits
        if lane not in self.lanes:
            raise ConfigError(f"rate limiter {self.provider}", ["lane"], f"no lane {lane}")
        return self.lanes[lane]

    def try_acquire(self, scope: str = "default", *, lane: str | None = None, within: float = 0.0) -> Decision:
        """Take a call (from every limit of ``lane``) now if each admits one; one store round trip.

        With ``within``, a call whose turn is at most that many seconds ahead takes it: the decision's
        ``turn`` is when to go. Only a lane of one sliding limit takes turns ahead: the
        turn of several would have to be one moment on every limit, which DynamoDB cannot write at once.
        DynamoDB takes a second round trip when its guess of a sliding limit's state was wrong (see its store).
        """
        limits = self._lane(lane)
        ahead = len(limits) == 1 and not limits[0].fixed
        try:
            allowed, counts, now_ms = self.store.consume(
                f"ratelimit:{self.provider}:{scope}", limits, round(within * 1000) if ahead else 0
            )
        except DeadlineExceededError:
            raise  # no time left to ask: the invocation's deadline, not a store outage
        except Exception as error:  # noqa: BLE001 (any store failure falls to the configured policy)
            return self._degraded(error)
        decision = decide(limits, counts, allowed, now_ms)
        if not decision.allowed:
            emit("RateLimited", provider=self.provider)
        return decision

    def room(self, scope: str = "default", *, lane: str | None = None) -> Decision:
        """Whether ``lane`` admits a call now, read without taking one (an estimate: others may take it first).

        When the store cannot be reached, the store policy answers, as for :meth:`try_acquire`.
        """
        limits = self._lane(lane)
        try:
            states, now_ms = self.store.usage(f"ratelimit:{self.provider}:{scope}", limits)
        except DeadlineExceededError:
            raise
        except Exception as error:  # noqa: BLE001 (any store failure falls to the configured policy)
            return self._degraded(error)
        free = not any(limit.wait_ms(state, now_ms) for limit, state in zip(limits, states, strict=True))
        return decide(limits, list(states), free, now_ms)

    def acquire(
        self,
        scope: str = "default",
        *,
        wait: float = 0.0,
        deadline: Deadline | None = None,
        lane: str | None = None,
    ) -> Decision:
        """Take a call or raise :class:`ThrottledError` (:class:`StoreUnavailableError` when the store is down).

        ``wait`` is how long it may sleep for its turn, in seconds (``math.inf``:
        any time), never past the deadline (the invocation's by default): a turn
        further off raises at once, telling the caller when to come back.
        """
        deadline = deadline or current_deadline()
        until = time.monotonic() + wait
        while True:
            left = min(until - time.monotonic(), TURN_HORIZON_SECONDS)
            if deadline is not None:
                left = min(left, deadline.remaining())
            decision = self.try_acquire(scope, lane=lane, within=max(0.0, left))
            if decision.allowed:
                # Until the turn, not for a delay: the round trip's own time would shift the call, by as much as
                # it varies, closer to the one before.
                time.sleep(max(0.0, decision.turn - time.time()))
                return decision
            if decision.degraded:  # our store is down, not the caller over a limit: 503, not 429
                raise StoreUnavailableError(f"rate limiter of {self.provider}", retry_after=decision.retry_after)
            fits = time.monotonic() + decision.retry_after <= until
            if not fits or (deadline is not None and not deadline.allows(decision.retry_after)):
                raise ThrottledError(
                    self.provider,
                    f"rate limit {decision.limit} reached",
                    retry_after=decision.retry_after,
                    reset=decision.reset,
                )
            time.sleep(decision.retry_after)

    def exhaust(self, scope: str, limit_name: str) -> Decision:
        """Mark ``limit_name`` used up for ``scope``: the fleet is refused until its window ends.

        A sliding limit refuses for a whole window from now.

        For a provider refusing because its quota is spent (another system
        may share the key), whatever our counter says. Returns the refusal
        every later :meth:`try_acquire` in this window gets. A store failure
        is logged and counted (``RateLimiterStoreError``), not raised: the
        caller is already handling the provider's refusal; the decision is
        then ``degraded`` and the window not marked.
        """
        limit = next((limit for limit in self.limits if limit.name == limit_name), None)
        if limit is None:
            raise ConfigError(f"rate limiter {self.provider}", ["limit_name"], "not a limit of this limiter")
        degraded = False
        try:
            now_ms = self.store.exhaust(f"ratelimit:{self.provider}:{scope}", limit)
        except DeadlineExceededError:
            raise  # no time left to ask: the invocation's deadline, not a store outage
        except Exception as error:  # noqa: BLE001 (marking the window is best effort)
            logger.warning(
                "rate limiter store unreachable; window not marked exhausted",
                extra={"provider": self.provider, "limit": limit.name, "error": error_name(error)},
            )
            emit("RateLimiterStoreError", provider=self.provider, policy=self.on_store_error)
            now_ms, degraded = int(time.time() * 1000), True
        else:
            logger.warning("rate limit window marked exhausted", extra={"provider": self.provider, "limit": limit.name})
        refusal = decide([limit], [limit.exhausted_state(now_ms)], False, now_ms)
        return dataclasses.replace(refusal, degraded=degraded)

    def usage(self, scope: str = "default") -> list[Usage]:
        """How much of each limit ``scope`` has used; takes no call.

        For operators: a store failure raises (there is no policy to apply to a reading).
        """
        states, now_ms = self.store.usage(f"ratelimit:{self.provider}:{scope}", self.limits)
        return usage(self.limits, states, now_ms)

    def _degraded(self, error: Exception) -> Decision:
        allowed = self.on_store_error == "open"
        logger.warning(
            "rate limiter store unreachable; applying policy",
            extra={"provider": self.provider, "policy": self.on_store_error, "error": error_name(error)},
        )
        emit("RateLimiterStoreError", provider=self.provider, policy=self.on_store_error)
        now = time.time()
        if allowed:
            return Decision(True, None, now, 0.0, degraded=True, turn=now)
        return Decision(False, 0, now + _DEGRADED_RETRY_AFTER, _DEGRADED_RETRY_AFTER, degraded=True)
