"""The process's X-Ray tracer (Powertools loads the X-Ray SDK lazily)."""

from aws_lambda_powertools import Tracer

tracer = Tracer()
