"""AWS SDK clients that never outlive the invocation: explicit timeouts, few retries, the deadline checked.

botocore's defaults (60 s connect and read timeouts, retries on top) would run
far past a 5-second function. Every client the layer and the handlers build
comes from :func:`aws_client`: each attempt is bounded by its connect and read
timeouts, and none starts unless it can finish before the invocation's
deadline, so retries stop there too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seawall.deadline import current_deadline
from seawall.errors import DeadlineExceededError


@dataclass(frozen=True)
class ClientTimeouts:
    """Seconds to connect and to read, and attempts in all (botocore's standard retry mode)."""

    connect: float = 1.0
    read: float = 3.0
    attempts: int = 3

    @property
    def per_attempt(self) -> float:
        """The longest one attempt can take."""
        return self.connect + self.read


def _refuse_past_deadline(service: str, timeouts: ClientTimeouts) -> Any:
    def before_send(**_: Any) -> None:
        deadline = current_deadline()
        if deadline is not None and not deadline.allows(timeouts.per_attempt):
            # Not a transport error: botocore re-raises it instead of retrying.
            raise DeadlineExceededError(service)

    return before_send


def aws_client(service: str, timeouts: ClientTimeouts = ClientTimeouts()) -> Any:
    """A boto3 client for ``service`` whose attempts are bounded by ``timeouts`` and the deadline."""
    import boto3  # noqa: PLC0415 (boto3 costs cold-start time; functions without AWS calls never load it)
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=timeouts.connect,
        read_timeout=timeouts.read,
        retries={"mode": "standard", "total_max_attempts": timeouts.attempts},
    )
    client = boto3.client(service, config=config)
    client.meta.events.register("before-send", _refuse_past_deadline(service, timeouts))
    return client
