"""What a new provider is: its name, auth, webhooks and actions, checked, and every name derived from them.

Everything the templates and the template.yaml edit need is computed here,
once, so that generating a provider and removing it agree on every path and
logical id.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from typing import Literal, get_args

Auth = Literal["bearer", "basic", "api-key", "signed"]
Webhooks = Literal["none", "standard", "hmac"]
AUTHS: tuple[str, ...] = get_args(Auth)
WEBHOOKS: tuple[str, ...] = get_args(Webhooks)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_LITERAL = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_PARAMETER = re.compile(r"\{([a-z][a-z0-9]*(?:_[a-z0-9]+)*)\}")
MAX_NAME = 24
MAX_SEGMENTS = 6
MAX_PATH = 64
# Names the local stack or the layer already use for something else (`--aws-port`, `local.sandboxes.faults`).
RESERVED = frozenset({"aws", "upstash", "port", "faults", "rest", "local", "shared", "seawall", "providers"})
# Path parameters become Python parameters beside these names in the generated handler and client.
RESERVED_PARAMETERS = frozenset(
    {"self", "body", "idempotency_key", "key", "app", "state", "client", "action", "handler", "models", "json"}
    | {"quote", "correlation", "instrumented", "problem_responses"}
)
# Paths the bundle keeps for itself: webhook receivers and the health check.
RESERVED_PATHS = ("webhooks", "health")
# The verb of each action, by method and by whether the path ends on an item ({id}) or a collection.
_VERBS = {
    ("GET", True): "get",
    ("GET", False): "list",
    ("POST", False): "create",
    ("POST", True): "post",
    ("PUT", True): "replace",
    ("PATCH", True): "update",
    ("DELETE", True): "delete",
}


class SpecError(ValueError):
    """The options cannot make a provider; the message says which one and why."""


def pascal(words: str) -> str:
    """``hotel_bookings`` → ``HotelBookings``."""
    return "".join(word.capitalize() for word in re.split(r"[_-]", words) if word)


def singular(word: str) -> str:
    """A plain English singular, enough for model and method names (``widgets`` → ``widget``)."""
    if word.endswith("ies") and len(word) > 3:  # noqa: PLR2004
        return word[:-3] + "y"
    if word.endswith(("ss", "us", "is")) or not word.endswith("s"):
        return word
    return word[:-1]


@dataclass(frozen=True)
class Action:
    """One API action: ``METHOD /path``, the function that serves it and the client method it calls."""

    provider: str
    method: str
    path: str

    @property
    def segments(self) -> list[str]:
        """The path's segments (``["widgets", "{widget_id}"]``)."""
        return self.path.strip("/").split("/")

    @property
    def parameters(self) -> list[str]:
        """The path parameters, in order."""
        return [found.group(1) for segment in self.segments if (found := _PARAMETER.fullmatch(segment))]

    @property
    def on_item(self) -> bool:
        """Whether the path ends on one object (``{id}``) rather than a collection."""
        return bool(_PARAMETER.fullmatch(self.segments[-1]))

    @property
    def words(self) -> list[str]:
        """The literal segments, as identifiers (``["widgets", "parts"]``)."""
        return [segment.replace("-", "_") for segment in self.segments if not _PARAMETER.fullmatch(segment)]

    @property
    def verb(self) -> str:
        """``get``, ``list``, ``create``, ``post``, ``replace``, ``update`` or ``delete``."""
        return _VERBS[(self.method, self.on_item)]

    @property
    def function(self) -> str:
        """The function's folder under functions/ (``acme_widgets_get``)."""
        words = self.words[1:] if self.words[0] == self.provider else self.words  # /acme/x: not acme_acme_x
        return "_".join([self.provider, *words, self.verb])

    @property
    def logical_id(self) -> str:
        """The function's logical id in template.yaml."""
        return pascal(self.function) + "Function"

    @property
    def resource(self) -> str:
        """What the action handles, in snake case (``widget_part``; plural for a list)."""
        *parents, last = self.words
        named = [singular(word) for word in parents] + [last if self.verb == "list" else singular(last)]
        return "_".join(named)

    @property
    def model(self) -> str:
        """The model of the objects it answers with (``WidgetPart``)."""
        return pascal(singular(self.words[-1]))

    @property
    def method_name(self) -> str:
        """The client method (``get_widget_part``)."""
        return f"{self.verb}_{self.resource}"

    @property
    def idempotent_action(self) -> bool:
        """Whether a repeat could act twice (POST, PATCH): it takes an Idempotency-Key."""
        return self.method in ("POST", "PATCH")

    @property
    def takes_body(self) -> bool:
        """Whether the request has a JSON body."""
        return self.method in ("POST", "PUT", "PATCH")

    @property
    def route(self) -> str:
        """The path as Powertools routes it (``/widgets/<widget_id>``)."""
        return _PARAMETER.sub(lambda found: f"<{found.group(1)}>", self.path)

    @property
    def sample_path(self) -> str:
        """The path with the ids the sample events and the sandbox use (``/widgets/sample_widget_id``)."""
        return _PARAMETER.sub(lambda found: f"sample_{found.group(1)}", self.path)

    @property
    def shape(self) -> str:
        """The path with its parameters unnamed: two paths of one shape are one API Gateway resource."""
        return _PARAMETER.sub("{}", self.path)

    @property
    def api_resource(self) -> str:
        """The logical id of the API Gateway resource of its path (see :attr:`ProviderSpec.api_resources`)."""
        return api_resource_id(self.provider, self.segments)

    @property
    def source_path(self) -> str:
        """The path as a permission's source ARN matches it (``/widgets/*``)."""
        return _PARAMETER.sub("*", self.path)

    @property
    def route_id(self) -> str:
        """The prefix of its route's logical ids: ``<route_id>Method`` and ``<route_id>Invoke``."""
        return self.logical_id.removesuffix("Function")

    def context(self) -> dict[str, object]:
        """Everything a template reads of this action."""
        names = (
            "method", "path", "parameters", "on_item", "verb", "function", "logical_id", "resource", "model",
            "method_name", "idempotent_action", "takes_body", "route", "sample_path", "api_resource", "route_id",
            "source_path",
        )  # fmt: skip
        return {name: getattr(self, name) for name in names}


def api_resource_id(provider: str, segments: list[str]) -> str:
    """``AcmeWidgetsByWidgetIdResource``: the API Gateway resource of a path (its segments) in a provider's template."""
    # A parameter reads "by <name>": /things/{id} and /things/id are two resources.
    words = [f"by_{segment[1:-1]}" if segment.startswith("{") else segment.replace("-", "_") for segment in segments]
    return pascal("_".join([provider, *words])) + "Resource"


def parse_action(provider: str, text: str) -> Action:
    """``"GET /widgets/{widget_id}"`` as an :class:`Action`; :class:`SpecError` says what is wrong with it."""
    method, _, path = text.strip().partition(" ")
    path = path.strip()
    if method not in METHODS:
        raise SpecError(f"action {text!r}: the method must be one of {', '.join(METHODS)}")
    if not path.startswith("/") or path.endswith("/") or "//" in path:
        raise SpecError(f"action {text!r}: the path must look like /things or /things/{{thing_id}}")
    segments = path[1:].split("/")
    if len(segments) > MAX_SEGMENTS or len(path) > MAX_PATH:
        raise SpecError(f"action {text!r}: at most {MAX_SEGMENTS} path segments and {MAX_PATH} characters")
    for segment in segments:
        if not (_LITERAL.fullmatch(segment) or _PARAMETER.fullmatch(segment)):
            raise SpecError(
                f"action {text!r}: segment {segment!r} is neither a lowercase word (a-z, 0-9, -) "
                "nor a {parameter} in snake case"
            )
    if _PARAMETER.fullmatch(segments[0]):
        raise SpecError(f"action {text!r}: the path must start with a word, not a parameter")
    if segments[0] in RESERVED_PATHS:
        raise SpecError(f"action {text!r}: /{segments[0]} is kept for the bundle's own routes")
    action = Action(provider, method, path)
    if method in ("PUT", "PATCH", "DELETE") and not action.on_item:
        raise SpecError(f"action {text!r}: {method} acts on one object: end the path with a {{parameter}}")
    for parameter in action.parameters:
        if keyword.iskeyword(parameter) or parameter in RESERVED_PARAMETERS:
            raise SpecError(f"action {text!r}: {{{parameter}}} is a name the generated code uses; call it otherwise")
    if len(set(action.parameters)) != len(action.parameters):
        raise SpecError(f"action {text!r}: a parameter name is used twice")
    return action


@dataclass(frozen=True)
class ProviderSpec:
    """A provider to generate: its name, how it authenticates, how it sends webhooks, its actions."""

    name: str
    auth: str
    webhooks: str
    actions: tuple[Action, ...]

    @property
    def title(self) -> str:
        """``Acme`` (``AcmePay`` for ``acme_pay``): the prefix of classes and logical ids."""
        return pascal(self.name)

    @property
    def env(self) -> str:
        """``ACME``: the prefix of the provider's environment variables."""
        return self.name.upper()

    @property
    def webhook_function(self) -> str | None:
        """The receiver's folder under functions/, when the provider sends webhooks."""
        return None if self.webhooks == "none" else f"{self.name}_webhook"

    @property
    def events_function(self) -> str | None:
        """The processor's folder under functions/, when the provider sends webhooks."""
        return None if self.webhooks == "none" else f"{self.name}_events"

    @property
    def functions(self) -> list[str]:
        """Every function folder the provider adds."""
        extra = [self.webhook_function, self.events_function]
        return [action.function for action in self.actions] + [name for name in extra if name]

    @property
    def api_resources(self) -> list[dict[str, str]]:
        """Every API Gateway resource its actions' paths need, parents first: logical id, parent's, path part.

        A parent of ``None`` is the API's root resource.
        """
        resources: dict[str, dict[str, str]] = {}
        for action in self.actions:
            for depth in range(1, len(action.segments) + 1):
                logical_id = api_resource_id(self.name, action.segments[:depth])
                parent = api_resource_id(self.name, action.segments[: depth - 1]) if depth > 1 else ""
                resources.setdefault(
                    logical_id, {"logical_id": logical_id, "parent": parent, "part": action.segments[depth - 1]}
                )
        return list(resources.values())

    def context(self) -> dict[str, object]:
        """Everything the templates read."""
        return {
            "api_resources": self.api_resources,
            "name": self.name,
            "title": self.title,
            "env": self.env,
            "auth": self.auth,
            "webhooks": self.webhooks,
            "actions": [action.context() for action in self.actions],
            "models": sorted({action.model for action in self.actions}),
            "webhook_function": self.webhook_function,
            "events_function": self.events_function,
        }


def provider_spec(name: str, auth: str, webhooks: str, actions: list[str]) -> ProviderSpec:
    """The checked spec; :class:`SpecError` for the first option that cannot work, naming it."""
    if not _NAME.fullmatch(name) or len(name) > MAX_NAME:
        raise SpecError(
            f"NAME {name!r}: a provider's name is lowercase snake case (a-z, 0-9, _), starts with a letter, "
            f"at most {MAX_NAME} characters"
        )
    # test*: its classes (TestSettings, TestSandbox) would be collected as test classes by pytest.
    if keyword.iskeyword(name) or name in RESERVED or name.startswith("test"):
        raise SpecError(f"NAME {name!r}: the name is taken by Python or by the bundle itself")
    if auth not in AUTHS:
        raise SpecError(f"AUTH {auth!r}: one of {', '.join(AUTHS)}")
    if webhooks not in WEBHOOKS:
        raise SpecError(f"WEBHOOKS {webhooks!r}: one of {', '.join(WEBHOOKS)}")
    if not actions:
        raise SpecError('ACTIONS: at least one "METHOD /path", e.g. ACTIONS="GET /widgets/{widget_id}, POST /widgets"')
    parsed = tuple(parse_action(name, text) for text in actions)
    seen: dict[str, Action] = {}
    for action in parsed:
        for key in (f"{action.method} {action.shape}", action.function, action.method_name):
            if key in seen:
                raise SpecError(f"actions {seen[key].method} {seen[key].path} and {action.method} {action.path} clash")
            seen[key] = action
    _check_parameters(parsed)
    return ProviderSpec(name, auth, webhooks, parsed)


def _check_parameters(actions: tuple[Action, ...]) -> None:
    """API Gateway keeps one name per parameter position: /a/{id} and /a/{key} cannot both exist."""
    names: dict[str, str] = {}
    for action in actions:
        prefix = ""
        for segment in action.segments:
            found = _PARAMETER.fullmatch(segment)
            if found and names.setdefault(prefix, found.group(1)) != found.group(1):
                raise SpecError(
                    f"action {action.method} {action.path}: {{{found.group(1)}}} is called "
                    f"{{{names[prefix]}}} by another action at the same place"
                )
            prefix += "/" + ("{}" if found else segment)


def parameter_clashes(spec: ProviderSpec, existing: list[tuple[str, str]]) -> list[str]:
    """How the spec's routes clash with ``existing`` (method, path) routes of template.yaml."""
    taken = {(method, _PARAMETER.sub("{}", path)) for method, path in existing}
    problems = []
    for action in spec.actions:
        if (action.method, action.shape) in taken or ("ANY", action.shape) in taken:
            problems.append(f"route {action.method} {action.path} is already served")
    probe = ProviderSpec(spec.name, spec.auth, spec.webhooks, (*_as_actions(spec.name, existing), *spec.actions))
    try:
        _check_parameters(probe.actions)
    except SpecError as error:
        problems.append(str(error))
    return problems


def _as_actions(provider: str, routes: list[tuple[str, str]]) -> list[Action]:
    return [Action(provider, method, path) for method, path in routes]
