"""The local gateway: routing and API Gateway proxy events over real HTTP."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.gateway import Gateway, match
from local.stack import LocalStack
from local.template import Route


@pytest.fixture(scope="module")
def gateway(fixture_stack: LocalStack) -> Iterator[str]:
    server = Gateway(fixture_stack, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()


def echo(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def test_exact_paths_win_over_templated_ones() -> None:
    routes = [Route("GET", "/items/{id}", "A", True), Route("GET", "/items/special", "B", False)]
    assert match(routes, "GET", "/items/special") == (routes[1], {})
    assert match(routes, "GET", "/items/it_1") == (routes[0], {"id": "it_1"})
    assert match(routes, "POST", "/items/it_1") is None


def test_a_get_becomes_a_rest_proxy_event(gateway: str) -> None:
    body = echo(httpx.get(f"{gateway}/items/it_42?expand=a&expand=b&q=1", headers={"X-Trace": "t1"}))
    event = body["event"]
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/it_42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "it_42"}
    assert event["queryStringParameters"] == {"expand": "b", "q": "1"}
    assert event["multiValueQueryStringParameters"] == {"expand": ["a", "b"], "q": ["1"]}
    assert event["headers"]["X-Trace"] == "t1"
    assert event["multiValueHeaders"]["X-Trace"] == ["t1"]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["resourcePath"] == "/items/{id}"
    assert context["stage"] == "test"
    assert context["path"] == "/test/items/it_42"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert len(context["requestId"]) == 36
    assert body["function_name"] == "EchoFunction"
    assert 0 < body["remaining_ms"] <= 7000


def test_text_bodies_pass_as_text_and_binary_as_base64(gateway: str) -> None:
    text = echo(httpx.post(f"{gateway}/items", content=b'{"a": 1}'))["event"]
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": 1}', False)
    raw = b"\xff\xfe\x00binary"
    binary = echo(httpx.post(f"{gateway}/items", content=raw))["event"]
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == raw


def test_greedy_proxy_paths_and_any_method(gateway: str) -> None:
    event = echo(httpx.delete(f"{gateway}/files/a/b/c.txt"))["event"]
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert event["httpMethod"] == "DELETE"


def test_unknown_routes_answer_404_problem_json(gateway: str) -> None:
    response = httpx.get(f"{gateway}/nowhere")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert json.loads(response.text)["status"] == 404
