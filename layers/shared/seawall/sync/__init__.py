"""Sync jobs: scheduled runs that page through a provider, resumable, never overlapping, paced by a quota.

- :class:`SyncJob`: one named job; ``run(fetch, apply)`` takes the fleet-wide
  lease, fetches and applies pages from the stored position until caught up or
  out of time, checkpointing after each page.
- :class:`Page`, :class:`Position`: what a fetch returns and where a job stands.
- :class:`RunReport`: what a run did (records, pages, requests, lag, goodput).
- :class:`JobState`: a job's stored record (``SyncJob.state()``): cursor, lease, its last run.

Build one with ``SharedState.sync_job(name, ...)``: the cursor and the lease
live on the state backend, DynamoDB or Upstash.
"""

from seawall.sync._job import Page, RunReport, SyncJob
from seawall.sync._store import JobState, Position

__all__ = ["JobState", "Page", "Position", "RunReport", "SyncJob"]
