"""A separate OS process contending for shared state: `python -m tests.state.worker KIND SCOPE N`.

Prints one JSON line: what this process was granted. The parent gives it the
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


def limiter(scope: str, attempts: int, start_at: float) -> dict[str, object]:
    limit = SharedState.from_env().rate_limiter("contended", [Limit("second", 10, 1)])
    while time.time() < start_at:
        time.sleep(0.001)
    windows: list[float] = []
    for _ in range(attempts):
        decision = limit.try_acquire(scope)
        if decision.degraded:
            raise SystemExit("store unreachable")
        if decision.allowed:
            windows.append(decision.reset)
    return {"admitted_windows": windows}


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
