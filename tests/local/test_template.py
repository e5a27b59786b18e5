"""The local stack reads the template as SAM would and creates its resources in moto."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from local.stack import LocalStack
from local.template import Template
from tests.local.conftest import FIXTURE, SECRET


def test_functions_merge_globals_and_keep_their_own_settings() -> None:
    echo, counter, snapshot = Template(FIXTURE).functions()
    assert echo.timeout == 7
    assert echo.memory == 256
    assert echo.handler == "app.handler"
    assert echo.environment["POWERTOOLS_SERVICE_NAME"] == "fixture"
    assert echo.environment["TABLE_NAME"] == {"Ref": "Table"}
    assert (echo.reserved_concurrency, counter.reserved_concurrency) == (None, 2)
    assert counter.timeout == 2
    assert (echo.snapstart, snapshot.snapstart) == (False, True)


def test_routes_carry_their_auth_and_their_apis_kind() -> None:
    routes = {
        (route.method, route.path): (route.authorized, route.api) for route in Template(FIXTURE).functions()[0].routes
    }
    assert routes == {
        ("GET", "/items/{id}"): (True, "rest"),
        ("POST", "/items"): (True, "rest"),
        ("GET", "/items/special"): (False, "rest"),
        ("ANY", "/files/{proxy+}"): (False, "rest"),
        # An HTTP API has no authorizer unless it names one; the REST API's default is not its.
        ("POST", "/hooks"): (False, "http"),
    }


def test_an_http_api_event_in_payload_format_2_is_refused(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(FIXTURE.read_text().replace('PayloadFormatVersion: "1.0"', 'PayloadFormatVersion: "2.0"'))
    with pytest.raises(ValueError, match="EchoFunction: an HttpApi event needs PayloadFormatVersion"):
        Template(template).functions()


def test_parameter_overrides_replace_defaults() -> None:
    assert Template(FIXTURE, {"Stage": "prod"}).resolve({"Fn::Sub": "${Stage}-${AWS::Region}"}) == "prod-us-east-1"


def test_tables_queues_buses_and_secrets_exist_in_moto(fixture_stack: LocalStack, moto_endpoint: str) -> None:
    physical = fixture_stack.template.physical
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint)
    ttl = dynamodb.describe_time_to_live(TableName="integrations-local-items")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}

    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    attributes = sqs.get_queue_attributes(QueueUrl=physical["Queue"]["Ref"], AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "42"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == physical["DeadLetterQueue"]["Arn"]
    assert int(redrive["maxReceiveCount"]) == 3

    events = boto3.client("events", endpoint_url=moto_endpoint)
    assert events.describe_event_bus(Name="integrations-local-bus")["Name"] == "integrations-local-bus"

    secrets = boto3.client("secretsmanager", endpoint_url=moto_endpoint)
    assert json.loads(secrets.get_secret_value(SecretId="fixture/secret")["SecretString"]) == SECRET


def test_function_environment_resolves_to_the_created_resources(fixture_stack: LocalStack, moto_endpoint: str) -> None:
    environment = fixture_stack.function("EchoFunction").config.environment
    physical = fixture_stack.template.physical
    assert environment["TABLE_NAME"] == "integrations-local-items"
    assert environment["TABLE_ARN"] == "arn:aws:dynamodb:us-east-1:123456789012:table/integrations-local-items"
    assert environment["QUEUE_URL"] == physical["Queue"]["QueueUrl"]
    assert environment["SECRET_ARN"] == physical["Secret"]["Ref"]
    assert environment["AWS_ENDPOINT_URL"] == moto_endpoint
    assert environment["STAGE"] == "test"
