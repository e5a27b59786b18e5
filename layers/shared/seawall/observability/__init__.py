"""Logging, metrics and redaction, configured once for every function of the bundle.

- ``logger``: the Powertools logger; every line it writes is redacted. ``error_name``: how a line names an error.
- ``emit`` and ``metrics``: CloudWatch metrics in Embedded Metric Format.
- ``register_secret``, ``register_secret_shape`` and ``redact``: what never leaves the process as text.
- ``correlation``: where each kind of event carries its correlation id.

The tracer (``_tracing``) is loaded only by :func:`seawall.handler.instrumented`
for functions that trace: importing it loads the X-Ray SDK.
"""

from seawall.observability import correlation
from seawall.observability._logging import error_name, logger
from seawall.observability._metrics import emit, metrics
from seawall.observability._redaction import redact, register_secret, register_secret_shape

__all__ = [
    "correlation",
    "emit",
    "error_name",
    "logger",
    "metrics",
    "redact",
    "register_secret",
    "register_secret_shape",
]
