"""The template's functions wired to local AWS: what `make run`, the invoke command and the tests share."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from local.aws import client_environment, provision
from local.iam import FUNCTION_SECRET_KEY, LocalIAM
from local.metrics import MetricStore
from local.runtime import DEFAULT_MAX_CONTAINERS, FunctionConfig, LocalFunction
from local.template import FunctionSpec, Route, Template

# Locally there is no X-Ray daemon; everything else runs as deployed.
_LOCAL_ENVIRONMENT = {"POWERTOOLS_TRACE_DISABLED": "true"}


class LocalStack:
    """A template's functions and routes, resolved against resources in moto at ``aws_endpoint``."""

    def __init__(
        self,
        template_path: Path,
        aws_endpoint: str,
        parameter_overrides: dict[str, str] | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        self.template = Template(template_path, parameter_overrides)
        self.aws_endpoint = aws_endpoint
        # Settings every function gets locally on top of the template's (e.g. the provider sandboxes' URLs).
        self.environment = environment or {}
        # What the functions' invocations and EMF lines give CloudWatch, for the local dashboard.
        self.metrics = MetricStore()
        self._functions: dict[str, LocalFunction] = {}
        self._lock = threading.Lock()

    def provision(self, secret_values: dict[str, Any], iam: LocalIAM | None = None) -> dict[str, dict[str, str]]:
        """Create the template's resources in moto (once per moto server); give each function its role in ``iam``."""
        physical = provision(self.template, self.aws_endpoint, secret_values)
        if iam is not None:
            for spec in self.template.functions():
                iam.add_function(self.template, spec, self.principal(spec.name))
        return physical

    def principal(self, function: str) -> str:
        """The access key ``function`` calls AWS with (its role, locally): unique to this stack."""
        return f"{self.template.resolve({'Ref': 'AWS::StackName'})}-{function}"

    def adopt(self, physical: dict[str, dict[str, str]]) -> None:
        """Use resources a running stack already created (for the invoke command)."""
        self.template.physical.update(physical)

    def spec(self, name: str) -> FunctionSpec:
        """The named function's definition: its logical id, or ``Stack/LogicalId`` in a provider's application."""
        specs = {spec.name: spec for spec in self.template.functions()}
        try:
            return specs[self.template.logical_id(name)]
        except KeyError:
            there = ", ".join(spec.path for spec in specs.values())
            raise KeyError(f"no function {name!r} in {self.template.path.name}; there are: {there}") from None

    def environment_of(self, spec: FunctionSpec) -> dict[str, str]:
        """The function's environment here: the template's, resolved, plus local endpoints and its own credentials."""
        environment = self.template.environment(spec)
        environment.update(client_environment(self.aws_endpoint))
        # Its own access key: local IAM checks each call against the function's role.
        environment.update(
            {"AWS_ACCESS_KEY_ID": self.principal(spec.name), "AWS_SECRET_ACCESS_KEY": FUNCTION_SECRET_KEY}
        )
        environment.update(_LOCAL_ENVIRONMENT)
        environment.update(self.environment)
        return environment

    def function(self, name: str, *, max_containers: int | None = None, timeout: float | None = None) -> LocalFunction:
        """The named function (its containers start on demand); ``timeout`` replaces the template's."""
        spec = self.spec(name)
        name = spec.name
        with self._lock:
            if name not in self._functions:
                config = FunctionConfig(
                    name=spec.name,
                    code_dir=spec.code_dir,
                    handler=spec.handler,
                    timeout=timeout or spec.timeout,
                    memory=spec.memory,
                    environment=self.environment_of(spec),
                    layer_dirs=[str(path.resolve()) for path in self.template.layer_dirs(spec)],
                    max_containers=max_containers or spec.reserved_concurrency or DEFAULT_MAX_CONTAINERS,
                    snapstart=spec.snapstart,
                )
                self._functions[name] = LocalFunction(config, self.metrics)
            return self._functions[name]

    def routes(self) -> list[Route]:
        """Every API route of every function."""
        return [route for spec in self.template.functions() for route in spec.routes]

    def stop(self) -> None:
        """Stop every function's containers."""
        with self._lock:
            functions = list(self._functions.values())
        for function in functions:
            function.stop()
