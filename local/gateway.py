"""A local HTTP gateway: template routes in, API Gateway REST proxy events out, as `sam local start-api`."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.auth import Principal, SigV4Authorizer
from local.aws import ACCOUNT
from local.container import REQUEST_TOO_LARGE
from local.dashboard import LocalDashboards
from local.httpserver import Handler, LocalServer, problem
from local.stack import LocalStack
from local.template import Route


@dataclass(frozen=True)
class IncomingRequest:
    """An HTTP request as the gateway received it."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    client_ip: str = "127.0.0.1"
    # API Gateway's $context.requestId: in the event, the x-amzn-RequestId header, the access log.
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def proxy_event(
    route: Route,
    path_parameters: dict[str, str],
    request: IncomingRequest,
    stage: str,
    principal: Principal | None = None,
) -> dict[str, Any]:
    """The API Gateway REST proxy event (payload format 1.0) for one request (``principal``: the IAM caller)."""
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        multi_query.setdefault(name, []).append(value)
    try:
        text: str | None = request.body.decode("utf-8") if request.body else None
        encoded = False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(request.body).decode("ascii"), True
    now = time.time()
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "domainName": "localhost",
            "extendedRequestId": str(uuid.uuid4()),
            "httpMethod": request.method,
            "identity": {
                "sourceIp": request.client_ip,
                "userAgent": multi_headers.get("User-Agent", [None])[-1],
                **(principal.identity() if principal else {}),
            },
            # The path the client asked for, as API Gateway gives it: behind execute-api's own address that
            # starts with the stage (/dev/...); here, as behind a custom domain, the URL carries none.
            "path": request.path,
            "protocol": "HTTP/1.1",
            "requestId": request.request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": "local",
            "resourcePath": route.path,
            "stage": stage,
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for ``method`` and ``path`` (exact paths win over templated ones), with path parameters."""
    candidates = []
    for route in routes:
        found = route.pattern.match(path)
        if found and route.method in (method, "ANY"):
            # As API Gateway: literal paths before templated ones, then an exact method before ANY.
            rank = (route.path.count("{"), route.method == "ANY")
            candidates.append((rank, route, found.groupdict()))
    if not candidates:
        return None
    _, route, parameters = min(candidates, key=lambda item: item[0])
    return route, {name: unquote(value) for name, value in parameters.items()}  # as API Gateway decodes them


class Gateway:
    """Serves a LocalStack's routes on 127.0.0.1, and its dev pages under ``/_local/`` (the dashboard)."""

    def __init__(self, stack: LocalStack, port: int = 3000) -> None:
        self.stack = stack
        self.authorizer = SigV4Authorizer()
        self.routes = stack.routes()
        self.dashboards = LocalDashboards(stack)
        self.stage = stack.template.parameters.get("Stage", "local")
        self.server = LocalServer(("127.0.0.1", port), self._handler_class())
        self._serving = False
        self.port = self.server.server_address[1]

    def handle(self, request: IncomingRequest) -> tuple[int, dict[str, str], bytes]:
        """Route one request to its function and translate the proxy response back to HTTP.

        Every answer carries the request id in ``x-amzn-RequestId``, as API Gateway's do, and the
        gateway's own refusals (404, 403, 413, 502) also in their body, as the template's gateway
        responses put it.
        """
        status, headers, body = self._answer(request)
        return status, {**headers, "x-amzn-RequestId": request.request_id}, body

    def _answer(self, request: IncomingRequest) -> tuple[int, dict[str, str], bytes]:
        if request.path.startswith("/_local/"):  # a dev tool's, never a route: public, as the whole stack is local
            return self.dashboards.answer(request.method, request.path, request.body)
        found = match(self.routes, request.method, request.path)
        if found is None:
            return _refusal(404, f"no route for {request.method} {request.path}", request)
        route, parameters = found
        principal = self.authorizer.authenticate(request) if route.authorized else None
        if route.authorized and principal is None:
            return _refusal(403, "Missing or invalid AWS Signature Version 4 authentication", request)
        event = proxy_event(route, parameters, request, self.stage, principal)
        invocation = self.stack.function(route.function).run(event)
        if invocation.error == REQUEST_TOO_LARGE:  # Lambda refused the event: API Gateway answers 413
            return _refusal(413, "the request is over Lambda's 6 MB synchronous payload limit", request)
        if invocation.error is not None:  # a failed invocation is a 502 from API Gateway too
            print(f"[gateway] {request.request_id} {route.function} failed: {invocation.error.get('errorType')}")
            return _refusal(502, "the function failed; see the stack's output", request)
        return _http_response(invocation.payload)

    def _handler_class(self) -> type[Handler]:
        gateway = self

        class GatewayHandler(Handler):
            def _serve(self) -> None:
                url = urlsplit(self.path)
                body = self.body_or_refusal()
                if body is None:
                    return
                request = IncomingRequest(
                    self.command, url.path, url.query, list(self.headers.items()), body, self.client_address[0]
                )
                self.request_id = request.request_id
                self.respond(*gateway.handle(request))

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

            def log_message(self, format: str, *args: Any) -> None:
                # The access log names the request as API Gateway's does ($context.requestId): "-" before one.
                print(f"[gateway] {self.address_string()} {getattr(self, 'request_id', '-')} {format % args}")

        return GatewayHandler

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown`."""
        self._serving = True
        self.server.serve_forever()

    def shutdown(self) -> None:
        """Stop serving (if it started: socketserver's shutdown would wait forever) and close the socket."""
        if self._serving:
            self.server.shutdown()
        self.server.server_close()


def _refusal(status: int, detail: str, request: IncomingRequest) -> tuple[int, dict[str, str], bytes]:
    """The gateway's own problem+json answer, with the request id in its body."""
    status, headers, body = problem(status, detail)
    return status, headers, json.dumps({**json.loads(body), "request_id": request.request_id}).encode()


def _http_response(result: Any) -> tuple[int, dict[str, str], bytes]:
    if not isinstance(result, dict) or "statusCode" not in result:
        return problem(502, "the function's response is not an API Gateway proxy response")
    headers = {str(key): str(value) for key, value in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(key)] = ", ".join(str(value) for value in values)
    raw = result.get("body") or ""
    payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return int(result["statusCode"]), headers, payload


@contextlib.contextmanager
def served(stack: LocalStack) -> Iterator[str]:
    """The stack's gateway on a free port, served on a thread while the block runs; its base URL."""
    gateway = Gateway(stack, port=0)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{gateway.port}"
    finally:
        gateway.shutdown()
