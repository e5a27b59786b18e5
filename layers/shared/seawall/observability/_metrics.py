"""CloudWatch metrics in Embedded Metric Format, through Powertools."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

# A handler that emitted nothing but its cold start has nothing to report; Powertools would warn each time.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

metrics = Metrics()


def emit(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
    """Emit one metric now, with its own dimensions (e.g. ``provider="stripe"``).

    Dimensioned metrics are flushed on their own so that one provider's
    dimensions never leak onto the handler's other metrics.
    """
    with single_metric(name=name, unit=unit, value=value, default_dimensions=metrics.default_dimensions) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
