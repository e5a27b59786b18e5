"""The local stack reads the template as SAM would and creates its resources in moto."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3
import pytest

from local.samlocal import sam_templates
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


NESTED = FIXTURE.parent / "nested" / "template.yaml"


def test_a_nested_applications_functions_join_the_bundle_with_their_own_globals_and_folder() -> None:
    template = Template(NESTED)
    specs = {spec.path: spec for spec in template.functions()}
    assert set(specs) == {"RootFunction", "Provider/ProviderFunction"}
    provider, root = specs["Provider/ProviderFunction"], specs["RootFunction"]
    assert (provider.stack, provider.name, root.stack) == ("Provider", "ProviderFunction", "")
    assert (provider.timeout, root.timeout) == (9, 7)
    assert "ROOT_ONLY" not in provider.environment and "BUNDLE" not in root.environment
    assert provider.code_dir.resolve() == root.code_dir.resolve() == (FIXTURE.parent / "functions" / "echo").resolve()
    assert template.layer_dirs(provider) == [NESTED.parent / "../../../../layers/shared/"]


def test_a_nested_application_reads_its_parameters_from_the_root_and_its_outputs_reach_the_root() -> None:
    template = Template(NESTED)
    template.physical.update(
        {"Table": {"Ref": "t-1"}, "ProviderQueue": {"Ref": "https://q/provider", "Arn": "arn:aws:sqs:q"}}
    )
    specs = {spec.path: spec for spec in template.functions()}
    provider = template.environment(specs["Provider/ProviderFunction"])
    assert provider["TABLE_NAME"] == "t-1"
    assert provider["GREETING"] == "hello"  # not passed: its default
    assert provider["BUNDLE"] == "integrations-local"
    assert provider["OWN_STACK"] == "integrations-local-Provider"
    assert provider["QUEUE_URL"] == "https://q/provider"
    root = template.environment(specs["RootFunction"])
    assert (root["PROVIDER_QUEUE_URL"], root["PROVIDER_QUEUE_ARN"]) == ("https://q/provider", "arn:aws:sqs:q")
    assert template.resolve(template.resources["ProviderSecret"]["Properties"]["Name"]) == "integrations-local/provider"
    # Its conditions are its own, evaluated with what the root passes.
    other = Template(NESTED, {"Mode": "direct"})
    assert "ProviderQueue" not in other.resources
    (function,) = (spec for spec in other.functions() if spec.stack)
    assert other.environment(function)["QUEUE_URL"] == "none"


def test_routes_declared_as_api_gateway_resources_are_read_with_their_auth() -> None:
    (provider,) = (spec for spec in Template(NESTED).functions() if spec.stack)
    routes = {(route.method, route.path): (route.authorized, route.api) for route in provider.routes}
    assert routes == {
        ("GET", "/things/{thing_id}"): (True, "rest"),
        ("POST", "/things"): (False, "rest"),
        ("POST", "/hooks/provider"): (False, "http"),
    }


def test_a_logical_id_declared_in_two_templates_is_refused(tmp_path: Path) -> None:
    shutil.copytree(NESTED.parent, tmp_path / "nested")
    shutil.copytree(FIXTURE.parent / "functions", tmp_path / "functions")
    root = tmp_path / "nested" / "template.yaml"
    root.write_text(
        root.read_text().replace("  Table:\n", "  ProviderSecret:\n").replace("!Ref Table\n", "!Ref ProviderSecret\n")
    )
    with pytest.raises(ValueError, match="ProviderSecret is declared twice"):
        Template(root)


def test_a_function_is_named_by_its_logical_id_or_by_its_stack_and_logical_id() -> None:
    template = Template(NESTED)
    assert template.logical_id("Provider/ProviderFunction") == template.logical_id("ProviderFunction")
    with pytest.raises(KeyError, match="no 'ProviderFunction' in nested application 'Other'"):
        template.logical_id("Other/ProviderFunction")


def test_sam_local_gets_every_template_with_the_endpoint_declared(tmp_path: Path) -> None:
    written = sam_templates(NESTED, "http://host:5000", tmp_path / "template.yaml")
    assert set(written) == {tmp_path / "template.yaml", tmp_path / "provider" / "template.yaml"}
    for document in written.values():
        assert document["Globals"]["Function"]["Environment"]["Variables"]["AWS_ENDPOINT_URL"] == "http://host:5000"
    provider = written[tmp_path / "provider" / "template.yaml"]["Resources"]["ProviderFunction"]
    assert Path(provider["Properties"]["CodeUri"]) == (FIXTURE.parent / "functions" / "echo").resolve()


def test_a_function_gets_the_core_layer_and_its_own_providers_layer_only() -> None:
    project = Template(FIXTURE.parents[3] / "template.yaml")
    layers = {spec.path: [path.resolve().name for path in project.layer_dirs(spec)] for spec in project.functions()}
    assert layers["HealthFunction"] == ["shared"]
    assert layers["Stripe/CustomersCreateFunction"] == ["shared", "stripe"]
    assert layers["Hotelbeds/HotelBookingsCreateFunction"] == ["shared", "hotelbeds"]
    providers = {spec.stack for spec in project.functions() if spec.stack}
    assert all(layers[path] == ["shared", path.split("/")[0].lower()] for path in layers if "/" in path), providers


def write_bundle(folder: Path, root: str, **children: str) -> Path:
    """A root template and its nested applications' templates (``<name>/template.yaml``) in ``folder``."""
    for name, text in children.items():
        (folder / name).mkdir()
        (folder / name / "template.yaml").write_text(text)
    (folder / "template.yaml").write_text(root)
    return folder / "template.yaml"


QUEUE_APP = """
Parameters:
  Prefix: {Type: String}
Resources:
  Queue:
    Type: AWS::SQS::Queue
Outputs:
  Name:
    Value: !Sub "${Prefix}-${AWS::StackName}"
"""


def test_an_application_passed_a_later_ones_output_reads_what_that_output_names(tmp_path: Path) -> None:
    root = """
Resources:
  B:
    Type: AWS::Serverless::Application
    Properties: {Location: b/template.yaml, Parameters: {Given: !GetAtt A.Outputs.Name}}
  A:
    Type: AWS::Serverless::Application
    Properties: {Location: a/template.yaml, Parameters: {Prefix: hello}}
"""
    b = """
Parameters:
  Given: {Type: String}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties: {TopicName: !Ref Given}
"""
    template = Template(write_bundle(tmp_path, root, a=QUEUE_APP, b=b))
    assert template.resolve(template.resources["Topic"]["Properties"]["TopicName"]) == "hello-integrations-local-A"


def test_two_applications_declaring_one_logical_id_are_refused(tmp_path: Path) -> None:
    root = """
Resources:
  A:
    Type: AWS::Serverless::Application
    Properties: {Location: a/template.yaml, Parameters: {Prefix: x}}
  B:
    Type: AWS::Serverless::Application
    Properties: {Location: b/template.yaml, Parameters: {Prefix: y}}
"""
    with pytest.raises(ValueError, match="Queue is declared twice"):
        Template(write_bundle(tmp_path, root, a=QUEUE_APP, b=QUEUE_APP))


def test_a_parameter_neither_passed_nor_defaulted_is_refused(tmp_path: Path) -> None:
    root = """
Resources:
  A:
    Type: AWS::Serverless::Application
    Properties: {Location: a/template.yaml}
"""
    with pytest.raises(ValueError, match="A: parameters Prefix are neither passed nor defaulted"):
        Template(write_bundle(tmp_path, root, a=QUEUE_APP))
