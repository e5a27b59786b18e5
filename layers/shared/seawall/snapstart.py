"""SnapStart runtime hooks: ready a container before Lambda snapshots it, make each restored copy its own.

With SnapStart, Lambda initialises a published version once, snapshots the
container, and starts later cold starts from copies of that snapshot. What the
init phase made is then shared by every copy, so:

- before the snapshot, what every AWS client made at import needs is loaded
  (botocore's service models and endpoint rules: most of a client's cost).
  Nothing is fetched: no credentials are resolved, no secret is read and no
  connection is opened, so none is in the snapshot;
- after each restore, before the first event: a new botocore session and new
  clients (this environment's credentials, new connections), every cached
  secret dropped, and ``random`` reseeded (retry jitter differs between copies).

:func:`enable` registers the hooks once per container; ``instrumented`` calls
it, so every handler has them. Lambda runs before-snapshot hooks in reverse
order of registration and after-restore hooks in order.
"""

from __future__ import annotations

import random

from snapshot_restore_py import register_after_restore, register_before_snapshot

from seawall.aws import prepare_clients, renew_clients
from seawall.config import forget_secrets

_enabled = False


def before_snapshot() -> None:
    """Load what the init phase's clients need; fetch nothing."""
    prepare_clients()


def after_restore() -> None:
    """Nothing made before the snapshot that must be unique or fresh is used again."""
    renew_clients()
    forget_secrets()
    random.seed()  # from os.urandom: each restored copy draws its own jitter


def enable() -> None:
    """Register the hooks (once per container; outside SnapStart Lambda never calls them)."""
    global _enabled  # noqa: PLW0603 (one registration per container)
    if not _enabled:
        register_before_snapshot(before_snapshot)
        register_after_restore(after_restore)
        _enabled = True
