"""The template's functions wired to local AWS: what `make run`, the invoke command and the tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from local.aws import client_environment, provision
from local.runtime import LocalFunction
from local.template import Route, Template

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
        self._functions: dict[str, LocalFunction] = {}

    def provision(self, secret_values: dict[str, Any]) -> dict[str, dict[str, str]]:
        """Create the template's resources in moto (once per moto server)."""
        return provision(self.template, self.aws_endpoint, secret_values)

    def adopt(self, physical: dict[str, dict[str, str]]) -> None:
        """Use resources a running stack already created (for the invoke command)."""
        self.template.physical.update(physical)

    def function(self, name: str) -> LocalFunction:
        """The named function, its environment resolved against the provisioned resources."""
        if name not in self._functions:
            specs = {spec.name: spec for spec in self.template.functions()}
            if name not in specs:
                raise KeyError(f"no function {name!r} in {self.template.path.name}; there are: {', '.join(specs)}")
            spec = specs[name]
            environment = self.template.environment(spec)
            environment.update(client_environment(self.aws_endpoint))
            environment.update(_LOCAL_ENVIRONMENT)
            environment.update(self.environment)
            layers = [str(path.resolve()) for path in self.template.layer_dirs(spec)]
            self._functions[name] = LocalFunction(spec, environment, layers)
        return self._functions[name]

    def routes(self) -> list[Route]:
        """Every API route of every function."""
        return [route for spec in self.template.functions() for route in spec.routes]
