"""Lambda's container model on this machine: each function in processes of its own, one event at a time each.

A :class:`LocalFunction` keeps a pool of :class:`Container` s (``local.container``
processes). An invocation takes an idle container — the most recently used,
so it stays warm — or, when all are busy and the function is under its cap
(the template's ``ReservedConcurrentExecutions``, else ``DEFAULT_MAX_CONTAINERS``),
starts a new one: a cold start, printed as it happens. At the cap, invocations
wait for a container to come free. Module state is never shared between
functions, nor between two containers of one function. A handler that raises,
times out or kills its process fails its invocation as in Lambda; a container
that timed out or died is discarded.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from local.container import END_OF_LOGS, REQUEST_LIMIT, REQUEST_TOO_LARGE
from local.metrics import MetricStore

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MAX_CONTAINERS = int(os.environ.get("LOCAL_MAX_CONTAINERS", "4"))
# Lambda gives the init phase 10 seconds.
INIT_TIMEOUT_SECONDS = 10.0
# What a container inherits from this machine besides the function's environment.
_MACHINE = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
_PRINT_LOCK = threading.Lock()


def _say(line: str) -> None:
    """One line on this process's stdout (handlers' logs and the runtime's own notes)."""
    with _PRINT_LOCK:
        sys.stdout.write(line if line.endswith("\n") else line + "\n")
        sys.stdout.flush()


class FunctionError(Exception):
    """The invocation failed: the handler raised, timed out, or its container died."""

    def __init__(self, function: str, error: dict[str, Any]) -> None:
        super().__init__(f"{function}: {error.get('errorType')}: {error.get('errorMessage')}")
        self.function = function
        self.error = error


@dataclass
class Invocation:
    """What one invocation returned and how it ran."""

    function: str
    request_id: str
    container: int
    cold_start: bool
    payload: Any = None
    error: dict[str, Any] | None = None
    init_ms: float | None = None
    duration_ms: float = 0.0
    logs: str = ""
    peak_rss_mb: float | None = None
    # A SnapStart container's after-restore hooks, run before its first event.
    restore_ms: float | None = None


@dataclass
class FunctionConfig:
    """What the runtime needs to start one function's containers."""

    name: str
    code_dir: Path
    handler: str
    timeout: float
    memory: int
    environment: dict[str, str]
    layer_dirs: list[str]
    max_containers: int = DEFAULT_MAX_CONTAINERS
    # Started as a restored SnapStart copy: init, the before-snapshot hooks, then the after-restore hooks.
    snapstart: bool = False
    # The interpreter the containers run (the benchmarks give one that has only the layer's packages).
    python: str = sys.executable

    @property
    def arn(self) -> str:
        """The ARN the function would have in the stack."""
        region = self.environment.get("AWS_REGION", "us-east-1")
        account = self.environment.get("LOCAL_ACCOUNT_ID", "123456789012")
        return f"arn:aws:lambda:{region}:{account}:function:{self.name}"

    def command(self, mode: str) -> list[str]:
        """The container process's command line (``mode``: the answer descriptor, or ``--openapi``)."""
        code = str(self.code_dir.resolve())
        return [self.python, "-m", "local.container", mode, code, self.handler, *self.layer_dirs]

    def process_environment(self) -> dict[str, str]:
        """The container's whole environment: the function's, Lambda's own variables, and no more."""
        machine = {name: os.environ[name] for name in _MACHINE if name in os.environ}
        return {
            **machine,
            **self.environment,
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "LAMBDA_TASK_ROOT": str(self.code_dir.resolve()),
            "_HANDLER": self.handler,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start" if self.snapstart else "on-demand",
            "TZ": "UTC",
            "PYTHONUNBUFFERED": "1",
            # No profile or credentials file of this machine's user leaks in: Lambda has none.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }


class ContainerDied(Exception):
    """The container cannot take another invocation."""


@dataclass
class _Current:
    lines: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


class Container:
    """One execution environment of one function: a process, started by :meth:`start` (its cold start).

    Its output is forwarded to this process's stdout, and its metrics (EMF lines) to ``metrics``.
    """

    def __init__(self, config: FunctionConfig, number: int, metrics: MetricStore) -> None:
        self.config = config
        self.number = number
        self.metrics = metrics
        self._process: subprocess.Popen[bytes] | None = None
        self._answers: IO[bytes] | None = None
        self._current = _Current()
        self._buffer = b""
        # The process's peak resident memory so far, as its last answer reported it.
        self.peak_rss_mb: float | None = None
        self.restore_ms: float | None = None

    def start(self) -> tuple[float, str, dict[str, Any] | None]:
        """Start the process and run its init phase: (init ms, init logs, init error or None)."""
        read_end, write_end = os.pipe()
        self._process = subprocess.Popen(
            self.config.command(str(write_end)),
            cwd=ROOT,
            env=self.config.process_environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,),
        )
        os.close(write_end)
        self._answers = os.fdopen(read_end, "rb", buffering=0)
        threading.Thread(target=self._forward_logs, daemon=True, name=f"logs-{self.config.name}").start()
        started = time.monotonic()
        try:
            answer = self._answer(INIT_TIMEOUT_SECONDS)
        except ContainerDied:
            self.stop()
            answer = {"init_error": {"errorType": "Runtime.ExitError", "errorMessage": "the init phase did not finish"}}
        except TimeoutError:  # Lambda's 10 s: the init fails (it must not escape: the slot it holds would leak)
            self.stop()
            late = f"the init phase did not finish in {INIT_TIMEOUT_SECONDS:g} s"
            answer = {"init_error": {"errorType": "Sandbox.Timedout", "errorMessage": late}}
        logs = self._logs()
        self.restore_ms = answer.get("restore_ms")
        init_ms = answer.get("init_ms", (time.monotonic() - started) * 1000)
        return float(init_ms), logs, answer.get("init_error")

    def invoke(self, event: Any, request_id: str) -> tuple[Any, dict[str, Any] | None, str]:
        """One event: (payload, error or None, logs). Raises ContainerDied once the container is unusable."""
        if self._process is None or self._process.stdin is None:
            raise ContainerDied
        deadline_ms = int(time.time() * 1000 + self.config.timeout * 1000)
        context = {
            "function_name": self.config.name,
            "function_version": "$LATEST",
            "invoked_function_arn": self.config.arn,
            "memory_limit_in_mb": self.config.memory,
            "aws_request_id": request_id,
            "log_group_name": f"/aws/lambda/{self.config.name}",
            "log_stream_name": f"local/[$LATEST]{self.number:04d}",
            "deadline_ms": deadline_ms,
        }
        self._current = _Current()
        try:
            self._process.stdin.write(json.dumps({"event": event, "context": context}, default=str).encode() + b"\n")
            self._process.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise ContainerDied from None
        try:
            answer = self._answer(self.config.timeout + 0.5)
        except TimeoutError:
            self.stop()
            message = f"Task timed out after {self.config.timeout:.2f} seconds"
            return None, {"errorType": "Sandbox.Timedout", "errorMessage": message}, self._logs(wait=0.1)
        except ContainerDied:
            self.stop()
            exited = {"errorType": "Runtime.ExitError", "errorMessage": "the container exited during the invocation"}
            return None, exited, self._logs(wait=0.1)
        self.peak_rss_mb = answer.get("max_rss_mb")
        return answer.get("result"), answer.get("error"), self._logs()

    def _answer(self, timeout: float) -> dict[str, Any]:
        if self._answers is None:
            raise ContainerDied
        limit = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = limit - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._answers], [], [], left)
            if not ready:
                continue
            chunk = self._answers.read(65536)
            if not chunk:
                raise ContainerDied
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _forward_logs(self) -> None:
        process = self._process
        if process is None or process.stdout is None:
            return
        for raw in process.stdout:
            line = raw.decode("utf-8", errors="replace")
            current = self._current
            if line.rstrip("\n") == END_OF_LOGS:
                current.done.set()
                continue
            self.metrics.record_emf(line)
            current.lines.append(line)
            _say(line)
        self._current.done.set()

    def _logs(self, wait: float = 5.0) -> str:
        self._current.done.wait(wait)
        return "".join(self._current.lines)

    @property
    def alive(self) -> bool:
        """Whether the process still runs."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """End the process (closing stdin ends it; a stuck one is killed)."""
        process = self._process
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if self._answers is not None:
            self._answers.close()


class LocalFunction:
    """One function of the template and its containers; its invocations and their metrics go to ``metrics``."""

    def __init__(self, config: FunctionConfig, metrics: MetricStore) -> None:
        self.config = config
        self.metrics = metrics
        self._idle: list[Container] = []
        self._all: set[Container] = set()
        self._starting = 0
        self._started = 0
        self._lock = threading.Condition()

    @property
    def containers(self) -> int:
        """How many containers run now."""
        with self._lock:
            return len(self._all)

    def invoke(self, event: Any) -> Any:
        """The handler's answer to ``event``; raises :class:`FunctionError` when the invocation failed."""
        invocation = self.run(event)
        if invocation.error is not None:
            raise FunctionError(self.config.name, invocation.error)
        return invocation.payload

    def run(self, event: Any) -> Invocation:
        """Invoke with ``event`` in a warm container, or a new one; never raises for the handler's failures.

        An event larger than Lambda's synchronous limit is refused before any container sees it.
        """
        request_id = str(uuid.uuid4())
        if len(json.dumps(event, ensure_ascii=False, default=str).encode()) > REQUEST_LIMIT:
            return Invocation(self.config.name, request_id, 0, False, error=REQUEST_TOO_LARGE)
        container, number = self._take()
        init_ms = None
        if container is None:
            container, init_ms, init_logs, init_error = self._cold_start(number)
            if init_error is not None:
                self.metrics.record_invocation(self.config.name, failed=True, duration_ms=None)
                return Invocation(
                    self.config.name, request_id, number, True, error=init_error, init_ms=init_ms, logs=init_logs
                )
        started = time.monotonic()
        try:
            payload, error, logs = container.invoke(event, request_id)
        except ContainerDied:
            payload, logs = None, ""
            error = {"errorType": "Runtime.ExitError", "errorMessage": "the container had exited"}
        duration_ms = (time.monotonic() - started) * 1000
        self._give_back(container)
        self.metrics.record_invocation(self.config.name, failed=error is not None, duration_ms=duration_ms)
        return Invocation(
            self.config.name,
            request_id,
            container.number,
            init_ms is not None,
            payload=payload,
            error=error,
            init_ms=init_ms,
            duration_ms=duration_ms,
            logs=logs,
            peak_rss_mb=container.peak_rss_mb,
            restore_ms=container.restore_ms if init_ms is not None else None,
        )

    def _take(self) -> tuple[Container | None, int]:
        """A warm container, or ``None`` and the number of a new one (its slot reserved); waits at the cap."""
        with self._lock:
            while not self._idle and len(self._all) + self._starting >= self.config.max_containers:
                self._lock.wait()
            if self._idle:
                container = self._idle.pop()  # the most recently used: the warmest
                return container, container.number
            self._starting += 1
            self._started += 1
            return None, self._started

    def _cold_start(self, number: int) -> tuple[Container, float, str, dict[str, Any] | None]:
        container = Container(self.config, number, self.metrics)
        init_ms, logs, init_error = container.start()
        with self._lock:
            self._starting -= 1
            if init_error is None:
                self._all.add(container)
            self._lock.notify()
        if init_error is not None:
            container.stop()
            _say(f"[runtime] {self.config.name}: container {number} failed its init phase ({init_ms:.0f} ms)")
        else:
            _say(f"[runtime] {self.config.name}: cold start of container {number} (init {init_ms:.0f} ms)")
        return container, init_ms, logs, init_error

    def _give_back(self, container: Container) -> None:
        with self._lock:
            if container.alive and container in self._all:
                self._idle.append(container)
            else:
                self._all.discard(container)
            self._lock.notify()

    def stop(self) -> None:
        """Stop every container."""
        with self._lock:
            containers, self._idle = list(self._all), []
            self._all.clear()
            self._lock.notify_all()
        for container in containers:
            container.stop()
