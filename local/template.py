"""Reading template.yaml as the local stack needs it: functions, routes, resources, intrinsics.

A provider is a nested application (``AWS::Serverless::Application`` with a template of its own). Locally
the bundle is one namespace: each application's resources join the root's under their own logical ids
(unique across the bundle, checked here), its parameters replaced by what the root passes and its
outputs by what they name. So a function is ``HotelBookingsCreateFunction``, or, as SAM CLI names
nested functions, ``Hotelbeds/HotelBookingsCreateFunction``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

APPLICATION = "AWS::Serverless::Application"

PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "integrations-local",
}


# A ``${token}`` of Fn::Sub (``${!literal}`` is no token).
_SUB_TOKEN = re.compile(r"\$\{([^}!]+)\}")

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
    # The nested application holding it ("" for the root template).
    stack: str = ""

    @property
    def path(self) -> str:
        """The function as SAM CLI names it: ``Stack/LogicalId`` in a nested application, else the logical id."""
        return f"{self.stack}/{self.name}" if self.stack else self.name


class Template:
    """A parsed template with its parameters, ready to resolve intrinsics against local resources."""

    def __init__(self, path: Path, parameter_overrides: dict[str, str] | None = None) -> None:
        self.path = path
        self.root = path.parent
        self.document = load_template(path)
        declared = self.document.get("Parameters", {})
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        self.parameters.update(parameter_overrides or {})
        self.conditions: dict[str, Any] = dict(self.document.get("Conditions", {}))
        # Each resource's nested application ("" for the root), the folder its paths are relative to, and the
        # Globals.Function of its template.
        self.stacks: dict[str, str] = {}
        self._folders: dict[str, Path] = {}
        self._globals: dict[str, dict[str, Any]] = {}
        merged = self._inline(self.document, "", self.root)
        self.resources: dict[str, dict[str, Any]] = {
            name: spec for name, spec in merged.items() if "Condition" not in spec or self.condition(spec["Condition"])
        }
        # Physical ids and attributes of provisioned resources, by logical id.
        self.physical: dict[str, dict[str, str]] = {}

    def _inline(self, document: dict[str, Any], stack: str, folder: Path) -> dict[str, dict[str, Any]]:
        """The document's resources, and those of its nested applications in their place, in one namespace."""
        declared = document.get("Resources", {})
        applications = {name: spec for name, spec in declared.items() if spec.get("Type") == APPLICATION}
        children = {name: load_template(folder / spec["Properties"]["Location"]) for name, spec in applications.items()}
        # What each application's outputs name, first: an application may be passed another's outputs.
        outputs = {
            name: {output: value["Value"] for output, value in child.get("Outputs", {}).items()}
            for name, child in children.items()
        }
        merged: dict[str, dict[str, Any]] = {}
        for name in _in_dependency_order(applications):
            spec, child = applications[name], children[name]
            given = _Scope(stack=stack, parameters={}, conditions=set(), stack_name=None, outputs=outputs).rewrite(
                spec["Properties"].get("Parameters", {})
            )
            missing = sorted(set(child.get("Parameters", {})) - set(given) - _defaulted(child))
            if missing:
                raise ValueError(f"{name}: parameters {', '.join(missing)} are neither passed nor defaulted")
            scope = _Scope(
                stack=name,
                parameters={
                    parameter: given.get(parameter, str(declared_parameter.get("Default", "")))
                    for parameter, declared_parameter in child.get("Parameters", {}).items()
                },
                conditions=set(child.get("Conditions", {})),
                stack_name=f"{PSEUDO_PARAMETERS['AWS::StackName']}-{name}",
            )
            outputs[name] = {output: scope.rewrite(value) for output, value in outputs[name].items()}
            # A nested application's conditions and resources, its parameters replaced by the root's expressions.
            for condition, expression in child.get("Conditions", {}).items():
                self.conditions[scope.condition(condition)] = scope.rewrite(expression)
            child["Resources"] = scope.rewrite(child.get("Resources", {}))
            child["Globals"] = scope.rewrite(child.get("Globals", {}))
            location = folder / spec["Properties"]["Location"]
            for logical, resource in self._inline(child, name, location.parent).items():
                if logical in merged:
                    raise ValueError(
                        f"{logical} is declared twice: logical ids are unique across the bundle's templates"
                    )
                if "Condition" in resource:
                    resource["Condition"] = scope.condition(resource["Condition"])
                merged[logical] = resource
        own = _Scope(stack=stack, parameters={}, conditions=set(), stack_name=None, outputs=outputs)
        globals_ = own.rewrite(document.get("Globals", {}).get("Function", {}))
        for name, spec in declared.items():
            if name in applications:
                continue
            if name in merged:
                raise ValueError(f"{name} is declared twice: logical ids are unique across the bundle's templates")
            merged[name] = own.rewrite(spec)
            self.stacks[name], self._folders[name], self._globals[name] = stack, folder, globals_
        return merged

    def logical_id(self, name: str) -> str:
        """``Stack/LogicalId`` (SAM CLI's name of a nested function) or a logical id, as a logical id."""
        stack, _, logical = name.rpartition("/")
        if stack and self.stacks.get(logical) != stack:
            raise KeyError(f"no {logical!r} in nested application {stack!r}")
        return logical

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        """The resources of the given types, by logical id."""
        return {name: spec for name, spec in self.resources.items() if spec.get("Type") in types}

    def functions(self) -> list[FunctionSpec]:
        """Every function with the Globals merged in, as SAM would."""
        api_defaults = self.document.get("Globals", {}).get("Api", {})
        specs = []
        for name, resource in self.of_type("AWS::Serverless::Function").items():
            defaults = self._globals[name]
            props = {**defaults, **resource.get("Properties", {})}
            environment = {
                **defaults.get("Environment", {}).get("Variables", {}),
                **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
            }
            spec = FunctionSpec(
                name=name,
                code_dir=self._folders[name] / props["CodeUri"],
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
                stack=self.stacks[name],
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
        by_name = {spec.name: spec for spec in specs}
        for route in self._gateway_routes():
            by_name[route.function].routes.append(route)
        return specs

    def _gateway_routes(self) -> list[Route]:
        """Routes declared as API Gateway resources (a provider's own template adds them to the root's APIs)."""
        functions = set(self.of_type("AWS::Serverless::Function"))
        routes = []
        for name, method in self.of_type("AWS::ApiGateway::Method").items():
            props = method["Properties"]
            routes.append(
                Route(
                    method=props["HttpMethod"].upper(),
                    path=self._resource_path(props["ResourceId"]),
                    function=_target(props["Integration"]["Uri"], functions, name),
                    authorized=props.get("AuthorizationType", "NONE") != "NONE",
                )
            )
        for name, route in self.of_type("AWS::ApiGatewayV2::Route").items():
            props = route["Properties"]
            integration = self.resources[_target(props["Target"], set(self.resources), name)]["Properties"]
            if str(integration.get("PayloadFormatVersion")) != "1.0":
                raise ValueError(f'{name}: an HTTP API integration needs PayloadFormatVersion "1.0" here')
            method, path = props["RouteKey"].split(" ", 1)
            routes.append(
                Route(
                    method=method.upper(),
                    path=path,
                    function=_target(integration["IntegrationUri"], functions, name),
                    authorized=props.get("AuthorizationType", "NONE") != "NONE",
                    api="http",
                )
            )
        return routes

    def _resource_path(self, resource_id: Any) -> str:
        """The path of an API Gateway resource: its parents' path parts down from the API's root resource."""
        parent = resource_id.get("Ref") if isinstance(resource_id, dict) else None
        if parent not in self.of_type("AWS::ApiGateway::Resource"):
            return ""  # the API's root resource (Fn::GetAtt Api.RootResourceId)
        props = self.resources[parent]["Properties"]
        return f"{self._resource_path(props['ParentId'])}/{props['PathPart']}"

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
        """Evaluate one of the template's Conditions (a nested application's as ``Stack/Name``)."""
        return self._holds(self.conditions[name])

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
                dirs.append(self._folders[ref] / self.resources[ref]["Properties"]["ContentUri"])
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
        if "." in name:  # SAM's `Function.Alias`: the alias's ARN
            logical, attribute = name.split(".", 1)
            return self.resolve({"Fn::GetAtt": [logical, attribute]})
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

        return _SUB_TOKEN.sub(replace, text)


def _defaulted(template: dict[str, Any]) -> set[str]:
    """The template's parameters with a default."""
    return {name for name, spec in template.get("Parameters", {}).items() if "Default" in spec}


def _in_dependency_order(applications: dict[str, dict[str, Any]]) -> list[str]:
    """The applications, each after those whose outputs it is passed (CloudFormation orders them the same way)."""
    needs = {
        name: _names(spec["Properties"].get("Parameters", {})) & set(applications)
        for name, spec in applications.items()
    }
    ordered: list[str] = []
    while len(ordered) < len(needs):
        ready = [name for name in needs if name not in ordered and needs[name] <= set(ordered)]
        if not ready:
            raise ValueError(
                f"nested applications pass each other's outputs in a cycle: {sorted(set(needs) - set(ordered))}"
            )
        ordered += ready
    return ordered


def _reference(token: str) -> dict[str, Any]:
    """A ``${token}`` of Fn::Sub as the intrinsic it stands for."""
    if "." in token and "::" not in token:
        logical, attribute = token.split(".", 1)
        return {"Fn::GetAtt": [logical, attribute]}
    return {"Ref": token}


def _names(value: Any) -> set[str]:
    """The logical ids an expression refers to (Ref, Fn::GetAtt, and the tokens of Fn::Sub)."""
    if isinstance(value, list):
        return set().union(*(_names(item) for item in value))
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, argument in value.items():
        if key == "Ref" and isinstance(argument, str):
            found.add(argument.split(".", 1)[0])
        elif key == "Fn::GetAtt":
            found.add(argument[0])
        elif key == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            found |= {token.split(".", 1)[0] for token in _SUB_TOKEN.findall(text)} - set(variables)
            found |= _names(variables)
        else:
            found |= _names(argument)
    return found


def _target(expression: Any, candidates: set[str], where: str) -> str:
    """The one resource among ``candidates`` that an integration's URI or a route's target names."""
    named = _names(expression) & candidates
    if len(named) != 1:
        raise ValueError(f"{where}: its integration names {sorted(named) or 'no'} function; it must name one")
    return named.pop()


@dataclass
class _Scope:
    """How a template's expressions read in the bundle's one namespace.

    Inside a nested application: its parameters become the expressions its parent passes (or their
    defaults), its conditions are named ``Stack/Name``, and ``AWS::StackName`` is the nested stack's.
    Anywhere: ``Fn::GetAtt App.Outputs.Name`` becomes the expression the output names.
    """

    stack: str
    parameters: dict[str, Any]
    conditions: set[str]
    stack_name: str | None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def condition(self, name: str) -> str:
        """A condition's name in the bundle."""
        return f"{self.stack}/{name}" if name in self.conditions else name

    def rewrite(self, value: Any) -> Any:  # noqa: PLR0911 (one branch per intrinsic)
        """``value`` with this scope's parameters, conditions, stack name and outputs replaced."""
        if isinstance(value, list):
            return [self.rewrite(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and argument in self.parameters:
                return self.parameters[argument]
            if key == "Ref" and argument == "AWS::StackName" and self.stack_name:
                return self.stack_name
            if key == "Fn::GetAtt" and argument[0] in self.outputs and argument[1].startswith("Outputs."):
                return self.outputs[argument[0]][argument[1].removeprefix("Outputs.")]
            if key == "Fn::If":
                return {"Fn::If": [self.condition(argument[0]), *self.rewrite(argument[1:])]}
            if key == "Condition" and isinstance(argument, str):
                return {"Condition": self.condition(argument)}
            if key == "Fn::Sub":
                return {"Fn::Sub": self._sub(argument)}
        return {key: self.rewrite(item) for key, item in value.items()}

    def _sub(self, argument: str | list[Any]) -> str | list[Any]:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self.rewrite(argument[1]))
        for token in _SUB_TOKEN.findall(text):
            reference = _reference(token)
            replaced = self.rewrite(reference)
            if token not in variables and replaced != reference:
                variables[token] = replaced
        return [text, variables] if variables else text
