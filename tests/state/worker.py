"""A separate OS process contending for shared state: `python -m tests.state.worker KIND SCOPE N START`.

Prints one JSON line: what this process was granted (N: milliseconds of asking for the limiter, attempts for
the probes; START: when all begin). The parent gives it the
backend's environment variables; it builds its own SharedState, as a container does.
"""

from __future__ import annotations

import json
import sys
import time

from seawall.breaker import BreakerConfig
from seawall.errors import CircuitOpenError
from seawall.ratelimit import Limit
from seawall.state import SharedState

# Probes hold their lease past the test, so only the first period's slots exist.
PROBE_CONFIG = BreakerConfig(
    minimum_calls=2, open_seconds=0.2, half_open_probes=2, probe_lease_seconds=60, state_staleness_seconds=0
)


def limiter(scope: str, milliseconds: int, start_at: float) -> dict[str, object]:
    limit = Limit("second", 10, 1)
    limiter = SharedState.from_env().rate_limiter("contended", [limit])
    while time.time() < start_at:
        time.sleep(0.001)
    admitted: list[int] = []
    while time.time() < start_at + milliseconds / 1000:  # contention for a while, however fast the store answers
        decision = limiter.try_acquire(scope)
        if decision.degraded:
            raise SystemExit("store unreachable")
        if decision.allowed:  # the TAT after the call, one interval past when the store admitted it
            admitted.append(round(decision.reset * 1000) - limit.interval_ms)
    return {"admitted_ms": admitted}


def probe(provider: str, attempts: int, start_at: float) -> dict[str, object]:
    breaker = SharedState.from_env().circuit_breaker(provider, PROBE_CONFIG)
    while time.time() < start_at:
        time.sleep(0.001)
    probes = 0
    for _ in range(attempts):
        try:
            breaker.before_call()
            probes += 1
        except CircuitOpenError:
            pass
    return {"probes": probes}


if __name__ == "__main__":
    kind, scope, count, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    print(json.dumps({"limiter": limiter, "probe": probe}[kind](scope, count, start)))
