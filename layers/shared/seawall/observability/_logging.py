"""The process's one structured logger, with secrets redacted from every line."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from seawall.observability._redaction import redact

# Libraries whose own loggers go through the same redacting handler (at WARNING).
_LIBRARY_LOGGERS = frozenset({"botocore", "boto3", "urllib3", "httpx", "httpcore", "tenacity"})


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, redacting the finished line.

    Redacting the serialised line rather than the record covers the message,
    ``extra`` keys, exception text and anything a library adds, in one place.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Format as Powertools does, then mask secrets."""
        return redact(super().format(record))


logger = Logger(logger_formatter=RedactingFormatter(utc=True))


def error_name(error: BaseException | None) -> str:
    """What a log line calls ``error``: its class, and an AWS error's code unless the class is named for it.

    botocore raises most AWS failures as a plain ``ClientError``: the code
    (``ClientError(ThrottlingException)``) says which. The message is left out:
    it may quote a request.
    """
    name = type(error).__name__
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return f"{name}({code})" if code and code != name else name


for _name in _LIBRARY_LOGGERS:
    logging.getLogger(_name)
copy_config_to_registered_loggers(source_logger=logger, include=set(_LIBRARY_LOGGERS), log_level=logging.WARNING)
