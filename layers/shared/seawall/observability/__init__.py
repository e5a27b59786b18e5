"""Logging, metrics and tracing, configured once for every function of the bundle.

The tracer lives in ``seawall.observability.tracing`` and is imported only by
what traces: importing it loads the X-Ray SDK.
"""

from seawall.observability import correlation
from seawall.observability.handler import instrumented
from seawall.observability.logging import logger
from seawall.observability.metrics import emit, metrics
from seawall.observability.redaction import redact, register_secret

__all__ = ["correlation", "emit", "instrumented", "logger", "metrics", "redact", "register_secret"]
