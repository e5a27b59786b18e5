"""What the benchmarks that run the template start: moto server, local secrets, the Stripe sandbox."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

from local.aws import MotoServer
from local.sandboxes.stripe import StripeSandbox
from local.secrets import ensure_secrets_file


def local_aws(running: contextlib.ExitStack, secret_names: list[str]) -> tuple[MotoServer, str, dict[str, Any]]:
    """moto server (stopped with ``running``), its endpoint, and fresh local values of ``secret_names``."""
    moto = MotoServer()
    endpoint = moto.start()
    running.callback(moto.stop)
    secrets = ensure_secrets_file(Path("/tmp") / f"bench-secrets-{uuid.uuid4().hex}.json", secret_names)
    return moto, endpoint, secrets


def stripe_sandbox(running: contextlib.ExitStack, secrets: dict[str, Any]) -> StripeSandbox:
    """A Stripe sandbox taking the local Stripe key, stopped with ``running``."""
    sandbox = StripeSandbox({secrets["StripeSecret"]["api_key"]})
    sandbox.start()
    running.callback(sandbox.stop)
    return sandbox
