"""Logging, metrics and tracing, configured once for every function of the bundle."""

from seawall.observability.handler import instrumented
from seawall.observability.logging import logger
from seawall.observability.metrics import emit, metrics
from seawall.observability.redaction import redact, register_secret
from seawall.observability.tracing import tracer

__all__ = ["emit", "instrumented", "logger", "metrics", "redact", "register_secret", "tracer"]
