"""One decorator that every Lambda handler of the bundle wears."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.config.settings import core_settings
from seawall.deadline import Deadline, bind_deadline
from seawall.observability.logging import logger
from seawall.observability.metrics import metrics
from seawall.observability.tracing import tracer

R = TypeVar("R")
Handler = Callable[[Any, LambdaContext], R]


def instrumented(correlation_id_path: str | None = None) -> Callable[[Handler[R]], Handler[R]]:
    """Log with the Lambda context and a correlation id, flush metrics, trace, and bind the deadline.

    Applying it validates the core settings, so a bad environment fails at cold start.

    ``correlation_id_path`` is a JMESPath into the event, e.g.
    ``aws_lambda_powertools.logging.correlation_paths.API_GATEWAY_REST``.
    """
    margin = core_settings().deadline_margin_ms / 1000

    def decorate(handler: Handler[R]) -> Handler[R]:
        @functools.wraps(handler)
        def bound(event: Any, context: LambdaContext) -> R:
            with bind_deadline(Deadline.from_lambda_context(context, margin)):
                return handler(event, context)

        traced = tracer.capture_lambda_handler(bound)
        measured = metrics.log_metrics(traced, capture_cold_start_metric=True)
        logged: Handler[R] = logger.inject_lambda_context(
            measured, correlation_id_path=correlation_id_path, clear_state=True
        )
        return logged

    return decorate
