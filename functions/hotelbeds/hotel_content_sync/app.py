"""Scheduled: Hotelbeds' hotel content into HotelsTable, paced by the job's share of the key's quota.

Runs never overlap (a fleet-wide lease), stop before the deadline and resume
from their checkpoint; the job takes at most ``SyncQuotaShare`` of the
per-second and of the daily quota, leaving the rest for searches and bookings.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from seawall.aws import aws_client
from seawall.config import load_settings
from seawall.handler import instrumented
from seawall.providers.hotelbeds.client import HotelbedsGateway
from seawall.providers.hotelbeds.content import ContentSync
from seawall.ratelimit import Limit
from seawall.state import SharedState


class Settings(BaseModel):
    """Where hotel content goes, the job's share of the quota, the time a page and a run may take."""

    table: str = Field(alias="HOTELS_TABLE", min_length=1)
    quota_share: float = Field(alias="SYNC_QUOTA_SHARE", default=0.5, gt=0, le=1)
    page_seconds: float = Field(alias="SYNC_PAGE_SECONDS", default=5.0, gt=0)
    run_seconds: float = Field(alias="SYNC_RUN_SECONDS", default=0, ge=0)  # 0: until the function's deadline


settings = load_settings(Settings)
state = SharedState.from_env()
hotelbeds = HotelbedsGateway(state, wait_for_rate_limit=True)
content = ContentSync(hotelbeds, aws_client("dynamodb"), settings.table)
per_second = max(1, math.floor(hotelbeds.settings.requests_per_second * settings.quota_share))
per_day = max(1, math.floor(hotelbeds.settings.daily_quota * settings.quota_share))
job = state.sync_job(
    "hotelbeds-content",
    pacing=state.rate_limiter(
        "hotelbeds-content", [Limit("second", per_second, 1), Limit("day", per_day, 86_400, fixed=True)]
    ),
    quota_per_second=per_second,
    page_seconds=settings.page_seconds,
    run_seconds=settings.run_seconds or None,
)


@instrumented()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """EventBridge Scheduler entry point; the report is the answer (and a log line, and metrics)."""
    report = job.run(content.fetch, content.apply)
    return {**dataclasses.asdict(report), "goodput": report.goodput}
