"""One decorator that every Lambda handler of the bundle wears."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.config._settings import core_settings
from seawall.deadline import Deadline, bind_deadline
from seawall.observability._logging import logger
from seawall.observability._metrics import emit, metrics
from seawall.snapstart import enable as enable_snapstart

R = TypeVar("R")
Handler = Callable[[Any, LambdaContext], R]


def instrumented(correlation_id_path: str | None = None, *, trace: bool = True) -> Callable[[Handler[R]], Handler[R]]:
    """Log with the Lambda context and a correlation id, flush metrics, trace, and bind the deadline.

    ``correlation_id_path`` is a JMESPath into the event, e.g.
    ``aws_lambda_powertools.logging.correlation_paths.API_GATEWAY_REST``.
    ``trace=False`` leaves the X-Ray SDK unloaded (a third of a cold start) for
    functions that call nothing downstream; Lambda still traces the invocation.
    Applying it validates the core settings, so a bad environment fails at cold start,
    and registers the SnapStart hooks (``seawall.snapstart``).
    """
    margin = core_settings().deadline_margin_ms / 1000
    enable_snapstart()

    def decorate(handler: Handler[R]) -> Handler[R]:
        @functools.wraps(handler)
        def bound(event: Any, context: LambdaContext) -> R:
            with bind_deadline(Deadline.from_lambda_context(context, margin)):
                try:
                    return handler(event, context)
                except Exception:
                    # One metric for every function of the stack, so one alarm covers new ones too.
                    emit("FunctionError")
                    raise

        wrapped: Handler[R] = bound
        if trace:
            from seawall.observability._tracing import tracer  # noqa: PLC0415 (see trace=False)

            wrapped = tracer.capture_lambda_handler(wrapped)
        wrapped = metrics.log_metrics(wrapped, capture_cold_start_metric=True)
        logged: Handler[R] = logger.inject_lambda_context(
            wrapped, correlation_id_path=correlation_id_path, clear_state=True
        )
        return logged

    return decorate
