"""Twin of HealthFunction: the guide's route module, every package loaded at import."""

import os
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from seed import logger

app = APIGatewayRestResolver()


@app.get("/health")
def health() -> dict[str, str]:
    """Status, service and stage."""
    return {"status": "ok", "service": os.environ.get("POWERTOOLS_SERVICE_NAME", ""), "stage": os.environ["STAGE"]}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)
