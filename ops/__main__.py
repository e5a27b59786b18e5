"""``python -m ops``: run one command against a stack and print its answer (see ``python -m ops --help``).

Exit status: 0 done, 1 an error (a message, never a traceback, for anything
the stack or AWS answered), 2 a command that changes something refused
without ``--yes`` (what it would do is printed).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from ops import cli
from ops.errors import OpsError, Refused
from ops.output import Redacting, as_json, as_text, refusal, write
from ops.target import connect
from seawall.errors import ConfigError, IntegrationError, NotAttemptedError
from seawall.observability import logger

# What the stack, AWS or a provider may answer that is no bug of this command: a message, not a traceback.
_EXPECTED = (OpsError, ConfigError, IntegrationError, NotAttemptedError, BotoCoreError, ClientError)


def _message(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"AWS refused {error.operation_name}: {details.get('Code')}: {details.get('Message')}"
    if isinstance(error, IntegrationError) and error.status_code is not None:
        facts = ", ".join([f"HTTP {error.status_code}", *(f"{key}={value}" for key, value in error.details.items())])
        return f"{error} ({facts})"
    return str(error)


def _quiet_layer() -> None:
    """The layer's logs are for Lambda; here only its warnings matter, on stderr with the other diagnostics."""
    logger.setLevel(logging.WARNING)
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)
    # The layer's metrics (EMF lines) need a namespace to be written at all; out of Lambda they are diagnostics.
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ops")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` names; its exit status."""
    args = cli.parse(argv)
    out = sys.stdout
    _quiet_layer()
    # What the layer and local functions print (their logs and EMF metrics: CloudWatch's, once deployed) is not
    # the answer; --verbose shows it on stderr, redacted as the answer is.
    printed = Redacting(sys.stderr) if args.verbose else io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            target = connect(args.stack, region=args.region, profile=args.profile)
            output = args.run(target, args)
    except Refused as refused:
        write(out, refusal(refused, json_output=args.json))
        return 2
    except _EXPECTED as error:
        write(sys.stderr, f"ops: {_message(error)}")
        return 1
    write(out, as_json(output.data) if args.json else as_text(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
