"""A deployed stack's resources are found in its providers' nested stacks too (CloudFormation in moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from ops.target import DeployedTarget

CHILD = {"Resources": {"ProviderQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "provider-q"}}}}


@pytest.fixture
def deployed(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A root stack with a queue of its own and a provider's nested stack holding another."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="templates")
    s3.put_object(Bucket="templates", Key="provider.json", Body=json.dumps(CHILD).encode())
    root = {
        "Resources": {
            "CoreQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "core-q"}},
            "Provider": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {"TemplateURL": "https://templates.s3.amazonaws.com/provider.json"},
            },
        }
    }
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName="bundle-nested", TemplateBody=json.dumps(root))
    yield "bundle-nested"
    cloudformation.delete_stack(StackName="bundle-nested")
    boto3.DEFAULT_SESSION = None  # the target set up boto3's default session for this stack only


def test_the_providers_resources_are_the_stacks_resources(deployed: str) -> None:
    target = DeployedTarget(deployed, region="us-east-1", profile=None)
    assert target.physical_id("CoreQueue").endswith("core-q")
    assert target.physical_id("ProviderQueue").endswith("provider-q")
    assert set(target.logical_ids("AWS::SQS::Queue")) == {"CoreQueue", "ProviderQueue"}
    assert "Provider" not in target.resources
