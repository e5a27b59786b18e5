"""The local gateway: routing and API Gateway proxy events over real HTTP."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.credentials import Credentials

from local.gateway import match, served
from local.stack import LocalStack
from local.template import Route
from tests.support.sigv4 import signed_headers


@pytest.fixture(scope="module")
def gateway(fixture_stack: LocalStack) -> Iterator[str]:
    with served(fixture_stack) as url:
        yield url


def echo(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def test_exact_paths_win_over_templated_ones() -> None:
    routes = [Route("GET", "/items/{id}", "A", True), Route("GET", "/items/special", "B", False)]
    assert match(routes, "GET", "/items/special") == (routes[1], {})
    assert match(routes, "GET", "/items/it_1") == (routes[0], {"id": "it_1"})
    assert match(routes, "POST", "/items/it_1") is None
    assert match(routes, "GET", "/items/it_1/") == (routes[0], {"id": "it_1"})  # as API Gateway routes it


def test_a_get_becomes_a_rest_proxy_event(gateway: str) -> None:
    url = f"{gateway}/items/it_42?expand=a&expand=b&q=1"
    body = echo(httpx.get(url, headers=signed_headers("GET", url, headers={"X-Trace": "t1"})))
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
    assert context["path"] == "/items/it_42"  # the URL here carries no stage, as behind a custom domain
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert len(context["requestId"]) == 36
    assert body["function_name"] == "EchoFunction"
    assert 0 < body["remaining_ms"] <= 7000


def test_every_answer_names_its_request_as_api_gateway_does(gateway: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"{gateway}/items/it_7"
    answered = httpx.get(url, headers=signed_headers("GET", url))
    request_id = answered.headers["x-amzn-RequestId"]
    assert echo(answered)["event"]["requestContext"]["requestId"] == request_id  # the function's, the caller's
    refused = httpx.get(f"{gateway}/nowhere")
    assert refused.status_code == 404
    assert refused.json()["request_id"] == refused.headers["x-amzn-RequestId"] != request_id
    logged = capsys.readouterr().out
    assert f'{request_id} "GET /items/it_7 HTTP/1.1" 200' in logged  # the access log line


def test_text_bodies_pass_as_text_and_binary_as_base64(gateway: str) -> None:
    url = f"{gateway}/items"
    text = echo(httpx.post(url, content=b'{"a": 1}', headers=signed_headers("POST", url, b'{"a": 1}')))["event"]
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": 1}', False)
    raw = b"\xff\xfe\x00binary"
    binary = echo(httpx.post(url, content=raw, headers=signed_headers("POST", url, raw)))["event"]
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


def test_iam_routes_refuse_unsigned_and_badly_signed_requests(gateway: str) -> None:
    url = f"{gateway}/items/it_1"
    assert httpx.get(url).status_code == 403
    forged = signed_headers("GET", url, credentials=Credentials("testing", "not-the-secret"))
    assert httpx.get(url, headers=forged).status_code == 403
    tampered = signed_headers("GET", url)
    assert httpx.get(f"{url}?extra=1", headers=tampered).status_code == 403
    refused = httpx.get(url)
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert httpx.get(url, headers=signed_headers("GET", url)).status_code == 200
    assert httpx.get(f"{gateway}/items/special").status_code == 200  # a public route needs no signature


def test_an_exact_method_wins_over_any() -> None:
    routes = [Route("ANY", "/things", "Other", True), Route("POST", "/things", "Create", True)]
    assert match(routes, "POST", "/things") == (routes[1], {})
    assert match(routes, "GET", "/things") == (routes[0], {})


def _raw(gateway: str, request: bytes) -> bytes:
    """Send ``request`` as it is and read what comes back until the server closes."""
    host, port = gateway.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("length", [b"abc", b"-1", b"99999999999999999999"])
def test_a_broken_content_length_is_400_problem_json_and_the_connection_closes(gateway: str, length: bytes) -> None:
    answer = _raw(gateway, b"POST /items/special HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"application/problem+json" in head
    assert json.loads(body)["status"] == 400


def test_headers_too_large_are_431_problem_json(gateway: str) -> None:
    answer = _raw(gateway, b"GET /items/special HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431")
    assert json.loads(body)["status"] == 431


def test_a_head_answer_has_no_body_and_the_connection_stays_usable(gateway: str) -> None:
    with httpx.Client() as client:
        head = client.head(f"{gateway}/files/x")  # an ANY route: HEAD reaches the function
        assert (head.status_code, head.content) == (200, b"")
        assert client.get(f"{gateway}/items/special").status_code == 200  # the same kept-alive connection


def test_chunked_bodies_arrive_whole_and_path_parameters_are_decoded(gateway: str) -> None:
    url = f"{gateway}/files/a%20b/c%2Fd.txt"
    event = echo(httpx.post(url, content=iter([b'{"a": ', b"1}"])))["event"]  # an iterator is sent chunked
    assert event["body"] == '{"a": 1}'
    assert event["pathParameters"] == {"proxy": "a b/c/d.txt"}


def test_a_request_over_lambdas_6_mb_is_413_problem_json(gateway: str) -> None:
    answer = httpx.post(f"{gateway}/files/upload", content=b"x" * (6 * 1024 * 1024), timeout=60)
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "6 MB" in answer.json()["detail"]
