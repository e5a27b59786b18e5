"""Running a function's handler in this process, as the Lambda runtime would.

One invocation at a time (a lock), each under its own function's environment:
Lambda gives every container one event at a time, and os.environ is global.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from local.aws import ACCOUNT, REGION
from local.template import FunctionSpec

_INVOKE_LOCK = threading.RLock()


@dataclass
class LambdaContext:
    """The context object the Lambda runtime passes to a handler."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        """The ARN the function would have in the stack."""
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        """The log group Lambda would write to."""
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        """A log stream name in Lambda's format."""
        return f"local/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class LocalFunction:
    """One function of the template, loaded on first invocation (its cold start)."""

    def __init__(self, spec: FunctionSpec, environment: dict[str, str], layer_dirs: list[str]) -> None:
        self.spec = spec
        self.environment = {
            **environment,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        }
        self.layer_dirs = layer_dirs
        self._module: ModuleType | None = None

    def _load(self) -> ModuleType:
        module_name, _ = self.spec.handler.rsplit(".", 1)
        path = self.spec.code_dir / f"{module_name.replace('.', '/')}.py"
        for directory in reversed(self.layer_dirs):
            if directory not in sys.path:
                sys.path.insert(0, directory)
        spec = importlib.util.spec_from_file_location(f"local_function_{self.spec.name}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # as an import would: pydantic resolves annotations through it
        sys.path.insert(0, str(self.spec.code_dir))
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(self.spec.code_dir))
        return module

    @property
    def module(self) -> ModuleType:
        """The handler's module, imported under the function's environment on first use (its cold start)."""
        with _INVOKE_LOCK, _environment(self.environment):
            if self._module is None:
                self._module = self._load()
            return self._module

    def invoke(self, event: Any) -> Any:
        """Call the handler with ``event`` and a fresh context; returns what it returns."""
        handler = getattr(self.module, self.spec.handler.rsplit(".", 1)[1])
        with _INVOKE_LOCK, _environment(self.environment):
            context = LambdaContext(self.spec.name, self.spec.memory, self.spec.timeout)
            return handler(event, context)
