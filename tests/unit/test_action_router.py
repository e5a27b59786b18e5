"""The API actions' router: parameters bound from the handler's signature, refusals before parsing, problem+json."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from seawall.api import ActionRouter, Response
from seawall.idempotency import idempotency_key
from tests.support.events import api_event
from tests.support.stack import ROOT

ThingId = Annotated[str, StringConstraints(pattern=r"^th_[a-z0-9]+$")]


class NewThing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    size: int = Field(gt=0)


app = ActionRouter()
app.allow("/things/<thing_id>", "DELETE")  # another function's method on the same path
seen: list[str] = []


@app.post("/things")
def create_thing(thing: NewThing) -> Response:
    seen.append(app.request.headers.get("x-trace", ""))
    return Response(status_code=201, body=thing, headers={"Location": f"/things/th_{thing.name}"})


@app.get("/things/<thing_id>")
def get_thing(thing_id: ThingId) -> dict[str, Any]:
    return {"id": thing_id}


@app.post("/keyed")
def keyed(thing: NewThing) -> dict[str, str]:
    return {"key": idempotency_key(app)}


def call(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = app.resolve(event, None)
    headers = {name: values[-1] for name, values in response["multiValueHeaders"].items()}
    return response["statusCode"], headers, json.loads(response["body"])


def test_a_valid_body_reaches_the_handler_as_its_model_and_the_answer_keeps_status_and_headers() -> None:
    status, headers, body = call(
        api_event("POST", "/things", json.dumps({"name": "kettle", "size": 2}), headers={"X-Trace": "t-1"})
    )
    assert (status, body) == (201, {"name": "kettle", "size": 2})
    assert headers == {"Content-Type": "application/json", "Location": "/things/th_kettle"}
    assert seen[-1] == "t-1"  # headers are read by lower-cased name


def test_a_path_parameter_is_validated_by_its_annotation() -> None:
    assert call(api_event("GET", "/things/th_7"))[::2] == (200, {"id": "th_7"})
    assert call(api_event("GET", "/things/th_7/"))[::2] == (200, {"id": "th_7"})  # API Gateway keeps the slash
    status, headers, body = call(api_event("GET", "/things/nope"))
    assert (status, headers["Content-Type"]) == (422, "application/problem+json")
    assert [error["loc"] for error in body["errors"]] == [["path", "thing_id"]]


def test_every_invalid_field_is_named_without_its_value() -> None:
    status, _, body = call(api_event("POST", "/things", json.dumps({"name": "", "size": -1, "colour": "secret-red"})))
    assert status == 422
    assert body["type"] == "urn:seawall:problem:validation"
    assert sorted(tuple(error["loc"]) for error in body["errors"]) == [
        ("body", "colour"),
        ("body", "name"),
        ("body", "size"),
    ]
    assert "secret-red" not in json.dumps(body)


@pytest.mark.parametrize(
    ("body", "headers", "status", "detail"),
    [
        (None, {}, 422, "the request is not valid"),
        ("{not json", {}, 400, "the request body cannot be read as JSON"),
        ('{"name": "\\ud800", "size": 1}', {}, 400, "cannot be read as JSON"),
        ('{"name": "a", "size": ' + "9" * 5000 + "}", {}, 400, "cannot be read as JSON"),
        ('{"name": "a"}', {"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"),
        ("[" * 100_000, {}, 400, "nested too deeply"),
        ("x" * (256 * 1024 + 1), {}, 413, "256 KB"),
    ],
    ids=["missing", "not JSON", "a lone surrogate", "a huge number", "a form", "too deep", "too large"],
)
def test_what_no_handler_should_parse_is_refused_as_a_problem(
    body: str | None, headers: dict[str, str], status: int, detail: str
) -> None:
    answered, answer_headers, problem = call(api_event("POST", "/things", body, headers=headers))
    assert (answered, answer_headers["Content-Type"]) == (status, "application/problem+json")
    assert detail in problem["detail"]


def test_a_body_that_is_not_utf8_is_400() -> None:
    event = {**api_event("POST", "/things"), "body": "/w==", "isBase64Encoded": True}  # b"\xff"
    status, _, problem = call(event)
    assert (status, problem["detail"]) == (400, "the request body is not UTF-8 text")


def test_another_method_is_405_naming_every_method_of_the_path_and_an_unknown_path_404() -> None:
    status, headers, _ = call(api_event("PUT", "/things/th_1"))
    assert (status, headers["Allow"]) == (405, "DELETE, GET")
    status, headers, problem = call(api_event("GET", "/nowhere"))
    assert (status, problem["detail"], headers["Content-Type"]) == (404, "no such route", "application/problem+json")


def test_the_request_is_readable_only_while_it_is_answered() -> None:
    call(api_event("POST", "/things", json.dumps({"name": "a", "size": 1})))
    with pytest.raises(RuntimeError):
        _ = app.request  # a warm container's next event never sees the last one's


def test_a_parameter_the_router_cannot_fill_fails_at_import() -> None:
    router = ActionRouter()
    with pytest.raises(TypeError, match="limit"):

        @router.get("/things")
        def listing(limit: int) -> None: ...


def test_the_openapi_document_is_powertools_from_the_same_routes() -> None:
    schema = json.loads(app.get_openapi_json_schema(title="t", version="1"))
    post = schema["paths"]["/things"]["post"]
    assert post["operationId"] == "create_thing_things_post"
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/NewThing"}
    (parameter,) = schema["paths"]["/things/{thing_id}"]["get"]["parameters"]
    assert (parameter["name"], parameter["in"]) == ("thing_id", "path")
    assert parameter["schema"]["pattern"] == "^th_[a-z0-9]+$"


def test_an_action_loads_no_powertools_event_handler() -> None:
    code = "import sys, seawall.api, seawall.idempotency; print('aws_lambda_powertools.event_handler' in sys.modules)"
    layer = str(ROOT / "layers" / "shared")
    loaded = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": layer}, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("sent", "status"), [(["k-1"], 200), (["k-1", "k-1"], 200), (["k-1", "k-2"], 400)], ids=["one", "same twice", "two"]
)
def test_two_different_idempotency_keys_are_refused_not_one_of_them_picked(sent: list[str], status: int) -> None:
    event = api_event("POST", "/keyed", json.dumps({"name": "a", "size": 1}), headers={"Idempotency-Key": sent[-1]})
    event["multiValueHeaders"]["Idempotency-Key"] = sent  # as API Gateway passes repeated headers
    answered, _, body = call(event)
    assert answered == status
    assert body == {"key": "k-1"} if status == 200 else body["detail"] == "send one Idempotency-Key header"
