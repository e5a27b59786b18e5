"""The API actions' router: typed parameters in, JSON or problem+json out, no web framework at run time.

Each action is one function behind one API Gateway route, so it needs a
route table, pydantic validation of its path parameters and JSON body, and
the one error mapping (:mod:`seawall.problems`); Powertools' event handler,
which does that and more, was about 40-80 ms of every action's cold start
(docs/benchmarks.md). The OpenAPI document is still Powertools': it is
generated from the same routes, loading Powertools only when asked for
(:mod:`seawall.api._openapi`).
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import to_json

from seawall.api._request import Request, too_deep
from seawall.problems import Problem, ProblemError, oversized, problem_for, problem_response, proxy_response

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Response:
    """An action's answer with its own status or headers: its JSON body (a pydantic model is dumped as JSON)."""

    status_code: int
    body: Any
    headers: Mapping[str, str] | None = None


def _pattern(rule: str) -> re.Pattern[str]:
    """``/customers/<customer_id>`` (Powertools' rule syntax) as a regex: each ``<name>`` one path segment.

    Trailing slashes are allowed: API Gateway routes ``/customers/`` to the ``/customers`` resource.
    """
    return re.compile("^" + re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", re.escape(rule)) + "/*$")


class Route:
    """One operation: ``method rule`` answered by ``handler``, whose parameters say what it reads.

    A parameter named like a ``<name>`` of the rule is that path parameter,
    validated by its annotation; a parameter annotated with a pydantic model
    is the JSON body. Nothing else can be asked for.
    """

    def __init__(self, rule: str, method: str, handler: Callable[..., Any], documentation: dict[str, Any]) -> None:
        self.rule = rule
        self.method = method.upper()
        self.handler = handler
        self.documentation = documentation
        self.pattern = _pattern(rule)
        hints = typing.get_type_hints(handler, include_extras=True)
        self.returns: Any = hints.get("return", Any)
        self.path: dict[str, tuple[Any, TypeAdapter[Any]]] = {}
        self.body: tuple[str, type[BaseModel]] | None = None
        for name in inspect.signature(handler).parameters:
            hint = hints.get(name, str)  # an unannotated path parameter is text
            if name in self.pattern.groupindex:
                self.path[name] = (hint, TypeAdapter(hint))
            elif isinstance(hint, type) and issubclass(hint, BaseModel) and self.body is None:
                self.body = (name, hint)
            else:
                raise TypeError(f"{handler.__name__}({name}): neither a path parameter of {rule} nor a pydantic body")

    def arguments(self, request: Request, path: Mapping[str, str]) -> dict[str, Any]:
        """The handler's arguments; 422 (every field's error, no input values) or 400 (not JSON) when invalid."""
        values: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for name, (_, adapter) in self.path.items():
            try:
                values[name] = adapter.validate_python(path[name])
            except ValidationError as error:
                errors += _errors(("path", name), error)
        if self.body is not None:
            name, model = self.body
            if not request.body:
                errors.append({"loc": ["body"], "msg": "Field required", "type": "missing"})
            else:
                try:
                    values[name] = model.model_validate_json(request.body)
                except ValidationError as error:
                    # Not JSON, or JSON no parser here represents (a lone surrogate, a number past 4300 digits).
                    if any(item["type"] == "json_invalid" for item in error.errors()):
                        raise ProblemError(_UNREADABLE) from None
                    errors += _errors(("body",), error)
        if errors:
            raise ProblemError(Problem(422, "validation", "the request is not valid", {"errors": errors}))
        return values


_UNREADABLE = Problem(400, "malformed", "the request body cannot be read as JSON")


def _errors(where: tuple[str, ...], error: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [*where, *(str(part) for part in item["loc"])], "msg": item["msg"], "type": item["type"]}
        for item in error.errors(include_url=False, include_input=False, include_context=False)
    ]


class ActionRouter:
    """The routes of an API action's function, answering API Gateway REST (proxy) events.

    Before anything parses it, a body over MAX_BODY_BYTES is refused (413);
    for a route that takes a body, one that is not UTF-8 JSON is refused
    (415 for another media type, 400 for other bytes or nesting too deep).
    An unknown path is 404, another method on a known path 405 with
    ``Allow``. Every error is answered as problem+json through
    :func:`~seawall.problems.problem_for`.
    """

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._methods: list[tuple[re.Pattern[str], str]] = []
        self._request: Request | None = None

    def route(self, rule: str, method: str, **documentation: Any) -> Callable[[F], F]:
        """Register ``handler`` for ``method rule``; ``documentation`` is what Powertools' route takes for OpenAPI."""

        def register(handler: F) -> F:
            self.routes.append(Route(rule, method, handler, documentation))
            self.allow(rule, method)
            return handler

        return register

    def get(self, rule: str, **documentation: Any) -> Callable[[F], F]:
        """Register a GET route."""
        return self.route(rule, "GET", **documentation)

    def post(self, rule: str, **documentation: Any) -> Callable[[F], F]:
        """Register a POST route."""
        return self.route(rule, "POST", **documentation)

    def put(self, rule: str, **documentation: Any) -> Callable[[F], F]:
        """Register a PUT route."""
        return self.route(rule, "PUT", **documentation)

    def patch(self, rule: str, **documentation: Any) -> Callable[[F], F]:
        """Register a PATCH route."""
        return self.route(rule, "PATCH", **documentation)

    def delete(self, rule: str, **documentation: Any) -> Callable[[F], F]:
        """Register a DELETE route."""
        return self.route(rule, "DELETE", **documentation)

    def allow(self, rule: str, *methods: str) -> None:
        """Name ``methods`` in 405 answers at ``rule`` (a route's own, or another function's on the same path)."""
        self._methods += [(_pattern(rule), method.upper()) for method in methods]

    def allowed_methods(self, path: str) -> list[str]:
        """The methods some route accepts at ``path`` (empty for an unknown path)."""
        return sorted({method for pattern, method in self._methods if pattern.match(path)})

    @property
    def request(self) -> Request:
        """The request being answered (a container answers one at a time)."""
        if self._request is None:
            raise RuntimeError("no request is being answered")
        return self._request

    def resolve(self, event: Mapping[str, Any], context: object) -> dict[str, Any]:
        """The API Gateway proxy response to ``event``."""
        request = Request.from_event(event)
        self._request = request
        try:
            return self._answer(request)
        finally:
            self._request = None

    def _answer(self, request: Request) -> dict[str, Any]:
        matched = oversized(request.body) or self._match(request)
        if isinstance(matched, Problem):
            return problem_response(matched, None, request.request_id)
        route, path = matched
        refusal = _not_json(request) if route.body is not None and request.body else None
        if refusal is not None:
            return problem_response(refusal, None, request.request_id)
        try:
            result = route.handler(**route.arguments(request, path))
        except Exception as error:  # noqa: BLE001 (every failure is answered as problem+json)
            return problem_response(problem_for(error), error, request.request_id)
        status, body, headers = (
            (result.status_code, result.body, dict(result.headers or {}))
            if isinstance(result, Response)
            else (200, result, {})
        )
        return proxy_response(status, to_json(body).decode(), {"Content-Type": "application/json", **headers})

    def _match(self, request: Request) -> tuple[Route, dict[str, str]] | Problem:
        for route in self.routes:
            found = route.pattern.match(request.path)
            if found and route.method == request.method:
                return route, found.groupdict()
        allowed = self.allowed_methods(request.path)
        if allowed:
            return Problem(405, "http", f"use {', '.join(allowed)}", headers={"Allow": ", ".join(allowed)})
        return Problem(404, "http", "no such route")

    def get_openapi_json_schema(self, **options: Any) -> str:
        """The routes' OpenAPI document, from Powertools' resolver (loaded only now)."""
        from seawall.api._openapi import openapi_json  # noqa: PLC0415 (documentation only: never on the cold path)

        return openapi_json(self.routes, **options)


def _not_json(request: Request) -> Problem | None:
    if not request.is_json:
        return Problem(415, "http", "send the body as application/json")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return Problem(400, "http", "the request body is not UTF-8 text")
    if too_deep(text):
        return Problem(400, "http", "the request body is nested too deeply")
    return None
