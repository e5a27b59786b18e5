"""What trips a breaker and how it recovers; checked at construction (cold start)."""

from __future__ import annotations

from dataclasses import dataclass

from seawall.errors import ConfigError


@dataclass(frozen=True)
class BreakerConfig:
    """Thresholds over a sliding window of ``window_seconds``, kept in ``bucket_seconds`` buckets.

    The breaker opens when at least ``minimum_calls`` were recorded in the
    window and either ``failure_rate`` of them were provider faults or
    ``slow_call_rate`` took ``slow_call_seconds`` or more. It stays open
    ``open_seconds``, then admits ``half_open_probes`` probes fleet-wide, each
    holding a lease of ``probe_lease_seconds`` (a hung or killed probe frees its
    slot when the lease ends). All probes succeeding closes it. A container
    trusts the state it last saw for ``state_staleness_seconds`` before reading
    it again.
    """

    failure_rate: float = 0.5
    slow_call_rate: float = 0.8
    slow_call_seconds: float = 5.0
    minimum_calls: int = 10
    window_seconds: int = 60
    bucket_seconds: int = 10
    open_seconds: float = 30.0
    half_open_probes: int = 2
    probe_lease_seconds: float = 15.0
    state_staleness_seconds: float = 5.0

    def __post_init__(self) -> None:
        problems = {
            "failure_rate": not 0 < self.failure_rate <= 1,
            "slow_call_rate": not 0 < self.slow_call_rate <= 1,
            "slow_call_seconds": self.slow_call_seconds <= 0,
            "minimum_calls": self.minimum_calls < 1,
            "window_seconds": self.window_seconds < 1,
            "bucket_seconds": self.bucket_seconds < 1 or self.window_seconds % max(self.bucket_seconds, 1) != 0,
            "open_seconds": self.open_seconds <= 0,
            "half_open_probes": self.half_open_probes < 1,
            "probe_lease_seconds": self.probe_lease_seconds <= 0,
            "state_staleness_seconds": self.state_staleness_seconds < 0,
        }
        wrong = [name for name, bad in problems.items() if bad]
        if wrong:
            raise ConfigError(
                "BreakerConfig", wrong, "out of range (rates in (0, 1], windows whole buckets, counts >= 1)"
            )

    @property
    def slots(self) -> int:
        """Buckets in the window."""
        return self.window_seconds // self.bucket_seconds

    @property
    def bucket_ms(self) -> int:
        """One bucket in milliseconds."""
        return self.bucket_seconds * 1000
