"""One Lambda execution environment: a process of its own that loads one handler and runs one event at a time.

Started by ``local.runtime`` as ``python -m local.container ANSWER_FD CODE_DIR HANDLER [LAYER_DIR ...]``
with only the function's environment, as Lambda starts a container: the
function's code first on ``sys.path``, then its layers, nothing of the project;
the working directory is the code directory. It imports the handler (the init
phase), says it is ready, then reads one invocation per line on stdin and
answers each on ANSWER_FD. stdout and stderr are the function's logs; after
each invocation a marker line tells the runtime its logs are complete. The
process ends when stdin closes (the runtime stopped it, or died).

``--openapi`` instead of ANSWER_FD prints the handler module's OpenAPI schema
and exits (``local.openapi`` builds the API document from every function).

Standard library only: whatever the handler imports is its own cold start.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

# Written on stdout after each invocation's logs; the runtime never shows it.
END_OF_LOGS = "\x1elocal-runtime: end of invocation"
# Lambda's synchronous payload limits, in bytes of JSON: an event over REQUEST_LIMIT is refused before any
# container sees it, an answer over RESPONSE_LIMIT (100 bytes more) fails the invocation (API Gateway: 502).
REQUEST_LIMIT = 6 * 1024 * 1024
RESPONSE_LIMIT = REQUEST_LIMIT + 100
REQUEST_TOO_LARGE = {
    "errorType": "RequestEntityTooLargeException",
    "errorMessage": f"Request must be smaller than {REQUEST_LIMIT} bytes for the InvokeFunction operation",
}
RESPONSE_TOO_LARGE = {
    "errorType": "Function.ResponseSizeTooLarge",
    "errorMessage": f"Response payload size exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes).",
}


@dataclass
class LambdaContext:
    """The context object the Lambda runtime passes to a handler."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_ms: int

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, self.deadline_ms - int(time.time() * 1000))


def _error(error: BaseException) -> dict[str, Any]:
    """An error as Lambda reports it."""
    return {
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_exception(error)[1:],
    }


def load(code_dir: str, handler: str, layers: list[str]) -> tuple[ModuleType, str]:
    """Import the handler's module as Lambda would, returning it and the handler's name."""
    sys.path[:1] = [code_dir, *layers]
    os.chdir(code_dir)
    module_name, function = handler.rsplit(".", 1)
    return importlib.import_module(module_name), function


def _peak_rss_mb() -> float:
    """The peak resident memory of the process (Lambda's "Max Memory Used").

    VmHWM, not getrusage: Linux carries ru_maxrss across exec, so it would count the parent that started us.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_before_snapshot() -> None:
    """SnapStart's before-snapshot hooks in Lambda's order: the last registered first."""
    for hook, args, kwargs in reversed(_hooks("get_before_snapshot")):
        hook(*args, **kwargs)


def run_after_restore() -> float:
    """SnapStart's after-restore hooks in Lambda's order (as registered); their milliseconds."""
    started = time.perf_counter()
    for hook, args, kwargs in _hooks("get_after_restore"):
        hook(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def _hooks(registry: str) -> list[Any]:
    try:
        hooks = importlib.import_module("snapshot_restore_py")
    except ImportError:  # not installed: no handler here can have registered a hook
        return []
    return list(getattr(hooks, registry)())


def snapshot_and_restore() -> float:
    """A SnapStart cold start: the before-snapshot hooks, then the after-restore ones; the latter's milliseconds.

    No snapshot is taken here: the same process goes on as the restored copy.
    """
    run_before_snapshot()
    return run_after_restore()


def _send(answers: TextIO, message: dict[str, Any]) -> None:
    answers.write(json.dumps(message, default=str) + "\n")
    answers.flush()


def _end_of_logs() -> None:
    sys.stderr.flush()
    print(END_OF_LOGS, flush=True)


def serve(answers: TextIO, code_dir: str, handler: str, layers: list[str]) -> int:
    """The init phase, then invocations until stdin closes."""
    started = time.perf_counter()
    try:
        module, name = load(code_dir, handler, layers)
        function = getattr(module, name)
    except BaseException as error:  # noqa: BLE001 (an init failure is reported, as Lambda does)
        traceback.print_exc()
        _end_of_logs()
        _send(answers, {"init_error": _error(error)})
        return 1
    ready: dict[str, Any] = {"ready": True, "init_ms": (time.perf_counter() - started) * 1000}
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        try:
            ready["restore_ms"] = snapshot_and_restore()
        except BaseException as error:  # noqa: BLE001 (a failing hook fails the container, as in Lambda)
            traceback.print_exc()
            _end_of_logs()
            _send(answers, {"init_error": _error(error)})
            return 1
    _end_of_logs()
    _send(answers, ready)
    for line in sys.stdin:
        request = json.loads(line)
        context = LambdaContext(**request["context"])
        try:
            message = {"result": function(request["event"], context)}
            # What Lambda cannot serialise is an error, not a hang; nor can it return more than its limit.
            if len(json.dumps(message["result"]).encode()) > RESPONSE_LIMIT:
                message = {"error": RESPONSE_TOO_LARGE}
        except Exception as error:  # noqa: BLE001 (a handler's error is the invocation's result)
            traceback.print_exc()
            message = {"error": _error(error)}
        message["max_rss_mb"] = _peak_rss_mb()
        _end_of_logs()
        _send(answers, message)
    return 0


def print_openapi(code_dir: str, handler: str, layers: list[str]) -> int:
    """Print the handler module's OpenAPI schema (``{}`` when it has no resolver); its logs go to stderr."""
    with contextlib.redirect_stdout(sys.stderr):
        module, _ = load(code_dir, handler, layers)
    app = getattr(module, "app", None)
    schema = app.get_openapi_json_schema(title="-", version="-") if app is not None else "{}"
    sys.stdout.write(schema)
    return 0


def main(argv: list[str]) -> int:
    """Run as ``serve`` (an answer descriptor) or ``--openapi``."""
    mode, code_dir, handler, *layers = argv
    if mode == "--openapi":
        return print_openapi(code_dir, handler, layers)
    with os.fdopen(int(mode), "w") as answers:
        return serve(answers, code_dir, handler, layers)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
