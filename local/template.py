"""Reading template.yaml as the local stack needs it: functions, routes, resources, intrinsics."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "integrations-local",
}


# What `!Ref AWS::NoValue` resolves to: the property or list item is dropped.
NO_VALUE: Any = object()


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, ...)."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    """The template as a dict, short-form tags turned into their long form."""
    with path.open() as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 (a SafeLoader subclass)
    return document


@dataclass(frozen=True)
class Route:
    """One API event of a function: method, path template, whether it needs IAM auth, and its API's kind.

    ``http`` is an HTTP API (the public webhook routes), ``rest`` a REST API.
    Locally both are served on one base URL; in AWS each API has its own.
    """

    method: str
    path: str
    function: str
    authorized: bool
    api: Literal["rest", "http"] = "rest"

    @property
    def pattern(self) -> re.Pattern[str]:
        """The path template as a regex: ``{name}`` matches a segment, ``{name+}`` the rest.

        A trailing slash reaches the resource without it, as in API Gateway (the event's path keeps it).
        """
        parts = re.split(r"(\{[^}]+\})", self.path)
        regex = ""
        for part in parts:
            if part.startswith("{") and part.endswith("+}"):
                regex += f"(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                regex += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += re.escape(part)
        return re.compile(f"^{regex}/?$")


@dataclass(frozen=True)
class QueueSource:
    """An SQS event source of a function: the queue's logical id and the batch size."""

    queue: str
    batch_size: int


@dataclass(frozen=True)
class StreamSource:
    """A DynamoDB stream event source: the table's logical id, batch size, retries, where failures go."""

    table: str
    batch_size: int
    max_retries: int
    on_failure: str | None


@dataclass(frozen=True)
class ScheduleSource:
    """A ScheduleV2 event: its name, expression (parameters resolved), input, retries, dead-letter queue."""

    name: str
    expression: str
    input: str
    enabled: bool
    max_retries: int
    dead_letter: str | None


@dataclass
class FunctionSpec:
    """What the local runtime needs of one AWS::Serverless::Function."""

    name: str
    code_dir: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, Any]
    layers: list[Any]
    policies: list[Any] = field(default_factory=list)
    reserved_concurrency: int | None = None
    routes: list[Route] = field(default_factory=list)
    queues: list[QueueSource] = field(default_factory=list)
    streams: list[StreamSource] = field(default_factory=list)
    schedules: list[ScheduleSource] = field(default_factory=list)
    # SnapStart on published versions: Lambda runs the runtime hooks around its snapshot.
    snapstart: bool = False


class Template:
    """A parsed template with its parameters, ready to resolve intrinsics against local resources."""

    def __init__(self, path: Path, parameter_overrides: dict[str, str] | None = None) -> None:
        self.path = path
        self.root = path.parent
        self.document = load_template(path)
        declared = self.document.get("Parameters", {})
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        self.parameters.update(parameter_overrides or {})
        self.resources: dict[str, dict[str, Any]] = {
            name: spec
            for name, spec in self.document.get("Resources", {}).items()
            if "Condition" not in spec or self.condition(spec["Condition"])
        }
        # Physical ids and attributes of provisioned resources, by logical id.
        self.physical: dict[str, dict[str, str]] = {}

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        """The resources of the given types, by logical id."""
        return {name: spec for name, spec in self.resources.items() if spec.get("Type") in types}

    def functions(self) -> list[FunctionSpec]:
        """Every function with the Globals merged in, as SAM would."""
        defaults = self.document.get("Globals", {}).get("Function", {})
        api_defaults = self.document.get("Globals", {}).get("Api", {})
        specs = []
        for name, resource in self.of_type("AWS::Serverless::Function").items():
            props = {**defaults, **resource.get("Properties", {})}
            environment = {
                **defaults.get("Environment", {}).get("Variables", {}),
                **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
            }
            spec = FunctionSpec(
                name=name,
                code_dir=self.root / props["CodeUri"],
                handler=props["Handler"],
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
                environment=environment,
                layers=list(props.get("Layers", [])),
                policies=list(props.get("Policies", [])),
                reserved_concurrency=(
                    int(props["ReservedConcurrentExecutions"]) if "ReservedConcurrentExecutions" in props else None
                ),
                snapstart=(props.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions",
            )
            for event_name, event in props.get("Events", {}).items():
                kind, event_props = event.get("Type"), event.get("Properties", {})
                if kind in ("Api", "HttpApi"):
                    spec.routes.append(self._route(name, kind, event_props, api_defaults))
                elif kind == "SQS":
                    queue = event_props["Queue"]["Fn::GetAtt"][0]
                    spec.queues.append(QueueSource(queue, int(event_props.get("BatchSize", 10))))
                elif kind == "DynamoDB":
                    destination = event_props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
                    spec.streams.append(
                        StreamSource(
                            table=event_props["Stream"]["Fn::GetAtt"][0],
                            batch_size=int(event_props.get("BatchSize", 100)),
                            max_retries=int(event_props.get("MaximumRetryAttempts", -1)),
                            on_failure=destination["Fn::GetAtt"][0] if destination else None,
                        )
                    )
                elif kind == "ScheduleV2":
                    spec.schedules.append(self._schedule(f"{name}-{event_name}", event_props))
            specs.append(spec)
        return specs

    def _schedule(self, name: str, props: dict[str, Any]) -> ScheduleSource:
        dead_letter = props.get("DeadLetterConfig", {}).get("Arn")
        return ScheduleSource(
            name=name,
            expression=str(self.resolve(props["ScheduleExpression"])),
            input=str(self.resolve(props.get("Input", "{}"))),
            enabled=props.get("State", "ENABLED") == "ENABLED",
            max_retries=int(props.get("RetryPolicy", {}).get("MaximumRetryAttempts", 185)),
            dead_letter=dead_letter["Fn::GetAtt"][0] if dead_letter else None,
        )

    def _route(self, function: str, kind: str, props: dict[str, Any], api_defaults: dict[str, Any]) -> Route:
        http = kind == "HttpApi"
        if http and str(props.get("PayloadFormatVersion")) != "1.0":
            # The local gateway sends the REST event, which is format 1.0; 2.0 reshapes it (and SAM's default is 2.0).
            raise ValueError(f'{function}: an HttpApi event needs PayloadFormatVersion "1.0" here')
        api_id = props.get("ApiId" if http else "RestApiId", {}).get("Ref", "")
        api = self.resources.get(api_id, {}).get("Properties", {})
        # Globals.Api sets REST APIs' defaults only (HTTP APIs have Globals.HttpApi, which this template leaves out).
        default_authorizer = api.get("Auth", {} if http else api_defaults.get("Auth", {})).get("DefaultAuthorizer")
        authorizer = props.get("Auth", {}).get("Authorizer", default_authorizer)
        return Route(
            method=props["Method"].upper(),
            path=props["Path"],
            function=function,
            authorized=authorizer not in (None, "NONE"),
            api="http" if http else "rest",
        )

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        """The function's environment variables, resolved (variables set to AWS::NoValue are left out)."""
        resolved = self.resolve(spec.environment)
        return {key: str(value) for key, value in resolved.items()}

    def condition(self, name: str) -> bool:
        """Evaluate one of the template's Conditions."""
        return self._holds(self.document["Conditions"][name])

    def _holds(self, expression: dict[str, Any]) -> bool:
        (function, arguments), *_ = expression.items()
        if function == "Fn::Equals":
            left, right = self.resolve(arguments)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not self._holds(arguments[0])
        if function == "Fn::And":
            return all(self._holds(item) for item in arguments)
        if function == "Fn::Or":
            return any(self._holds(item) for item in arguments)
        if function == "Condition":
            return self.condition(arguments)
        raise ValueError(f"unsupported condition function {function}")

    def layer_dirs(self, spec: FunctionSpec) -> list[Path]:
        """The folders of the function's layers (what Lambda mounts under /opt/python)."""
        dirs = []
        for layer in spec.layers:
            ref = layer.get("Ref") if isinstance(layer, dict) else None
            if ref in self.resources:
                dirs.append(self.root / self.resources[ref]["Properties"]["ContentUri"])
        return dirs

    def resolve(self, value: Any) -> Any:  # noqa: PLR0911 (one branch per intrinsic)
        """Evaluate the intrinsics the local stack supports: Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If."""
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if "Fn::If" in value:
            name, when_true, when_false = value["Fn::If"]
            return self.resolve(when_true if self.condition(name) else when_false)
        if "Ref" in value:
            return self._ref(value["Ref"])
        if "Fn::GetAtt" in value:
            logical, attribute = value["Fn::GetAtt"]
            return self.physical.get(logical, {}).get(attribute, f"{logical}.{attribute}")
        if "Fn::Sub" in value:
            return self._sub(value["Fn::Sub"])
        if "Fn::Join" in value:
            separator, items = value["Fn::Join"]
            return separator.join(str(item) for item in self.resolve(items))
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        return self.physical.get(name, {}).get("Ref", name)

    def _sub(self, spec: str | list[Any]) -> str:
        text, variables = (spec, {}) if isinstance(spec, str) else (spec[0], self.resolve(spec[1]))

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token in variables:
                return str(variables[token])
            if "." in token:
                logical, attribute = token.split(".", 1)
                return str(self.resolve({"Fn::GetAtt": [logical, attribute]}))
            return str(self._ref(token))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)
