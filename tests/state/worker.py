"""A separate OS process contending for shared state: `python -m tests.state.worker KIND SCOPE N`.

Prints one JSON line: what this process was granted. The parent sets the
backend's environment variables.
"""

from __future__ import annotations

import json
import sys
import time

from seawall.ratelimit import Limit, rate_limiter


def limiter(scope: str, attempts: int, start_at: float) -> dict[str, object]:
    limit = rate_limiter("contended", [Limit("second", 10, 1)])
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


if __name__ == "__main__":
    kind, scope, count, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    print(json.dumps({"limiter": limiter}[kind](scope, count, start)))
