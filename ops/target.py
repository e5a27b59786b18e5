"""Which stack the command works on: a deployed one (CloudFormation) or the local `make run`.

Either way a :class:`Target` answers the same questions: the physical id of
a logical one, the resources of a type, a function's environment (the
settings the layer's own clients are built from), and invoking a function.
Connecting points boto3's default session and the layer's own session
(``seawall.aws``) at the target, so the layer's clients (``seawall.aws.aws_client``: the state
stores, Secrets Manager) reach the same stack as this command's own.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import boto3
import httpx
from botocore.config import Config
from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError, ProfileNotFound
from pydantic import BaseModel

from local.aws import client_environment
from local.invoke import run_once
from local.stack import LocalStack
from local.state import SECRETS_FILE, running_stack
from local.template import ScheduleSource, Template
from ops import ROOT
from ops.errors import OpsError
from seawall.aws import configure_session, renew_clients
from seawall.config import load_settings
from seawall.errors import ConfigError
from seawall.observability import register_secret
from seawall.state import SharedState, StateSettings

M = TypeVar("M", bound=BaseModel)

QUEUE = "AWS::SQS::Queue"
# A deployed stack's functions (SAM's AWS::Serverless::Function, transformed).
FUNCTION = "AWS::Lambda::Function"
# Long enough for the longest function's timeout (a sync job: 300 s) and its answer.
INVOKE_READ_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class Invoked:
    """A function's answer, or its error as Lambda reports it (``errorType``, ``errorMessage``)."""

    payload: Any
    error: dict[str, Any] | None


# CloudWatch publishes SQS metrics every minute; the newest point within this window is "now".
_AGE_WINDOW = dt.timedelta(minutes=15)


class Target(ABC):
    """A stack this command works on."""

    description: str
    template: Template
    # Whether SQS moves messages itself (StartMessageMoveTask); moto does not implement it.
    moves_messages: bool

    @abstractmethod
    def physical_id(self, logical_id: str) -> str:
        """The resource's physical id: a queue's URL, a table's or function's name, a secret's ARN."""

    @abstractmethod
    def logical_ids(self, resource_type: str) -> list[str]:
        """The stack's resources of a CloudFormation type (``AWS::SQS::Queue``), by logical id."""

    @abstractmethod
    def functions(self) -> list[str]:
        """The stack's functions, by logical id."""

    @abstractmethod
    def function_environment(self, function: str) -> dict[str, str]:
        """The function's environment variables as it runs with them."""

    @abstractmethod
    def invoke(self, function: str, event: Any) -> Invoked:
        """Invoke the function once with ``event`` and wait for its answer."""

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` of this stack."""
        return boto3.client(service)

    def oldest_message_ages(self, queue_names: list[str]) -> dict[str, float]:
        """The age in seconds of each queue's oldest message, by queue name, where CloudWatch has a recent point.

        Raises ClientError when CloudWatch refuses (a role without ``cloudwatch:GetMetricData``).
        """
        if not queue_names:
            return {}
        now = dt.datetime.now(dt.UTC)
        metric = {"Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage"}
        queries = [
            {
                "Id": f"q{index}",
                "MetricStat": {
                    "Metric": {**metric, "Dimensions": [{"Name": "QueueName", "Value": name}]},
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
            for index, name in enumerate(queue_names)
        ]
        answer = self.client("cloudwatch").get_metric_data(
            MetricDataQueries=queries, StartTime=now - _AGE_WINDOW, EndTime=now, ScanBy="TimestampDescending"
        )
        return {
            queue_names[int(result["Id"][1:])]: float(result["Values"][0])
            for result in answer["MetricDataResults"]
            if result["Values"]
        }

    def schedules(self) -> dict[str, ScheduleSource]:
        """The template's schedules (ScheduleV2 events) of the stack's functions, by ``<function>-<event>``."""
        present = set(self.functions())
        return {
            schedule.name: schedule
            for spec in self.template.functions()
            if spec.name in present
            for schedule in spec.schedules
        }

    @abstractmethod
    def secret_values(self) -> list[Any]:
        """The values of the stack's secrets (parsed JSON where they are JSON), as far as they can be read."""

    def mask_secrets(self) -> None:
        """Mask every value of the stack's secrets in all this command prints (the key shapes alone miss some)."""
        for value in self.secret_values():
            for text in _strings(value):
                register_secret(text)

    @functools.cached_property
    def state(self) -> SharedState:
        """The fleet's shared state as the functions build it, with their settings (STATE_BACKEND and its own)."""
        settings = self.settings(StateSettings)
        if settings is None:
            raise OpsError(f"no function of {self.description} has the shared state's settings (STATE_BACKEND)")
        return SharedState(settings)

    def settings(self, model: type[M]) -> M | None:
        """``model`` as the first function whose environment satisfies it has it; ``None`` if none does."""
        for function in self.functions():
            try:
                return load_settings(model, self.function_environment(function))
            except ConfigError:
                continue
        return None


def _strings(value: Any) -> list[str]:
    """Every string in a JSON value."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [value] if isinstance(value, str) else []


class LocalTarget(Target):
    """The running `make run`, from its state file (``local.state``; LOCAL_STATE_DIR moves it)."""

    moves_messages = False

    def __init__(self) -> None:
        state = running_stack()
        if state is None:
            raise OpsError(
                "the local stack is not running: start it with `make run` in another terminal,"
                " or name a deployed stack with --stack NAME (or OPS_STACK)"
            )
        self.description = f"the local stack (pid {state.get('pid')})"
        self.state_file = state
        try:
            self.resources: dict[str, dict[str, str]] = state["resources"]
            self.stack = LocalStack(
                Path(state["template"]), state["aws_endpoint"], state.get("parameters"), state.get("environment")
            )
        except KeyError as missing:
            raise OpsError(f"the local stack's state file lacks {missing}: restart `make run`") from None
        self.stack.adopt(self.resources)
        self.template = self.stack.template
        # This process calls moto as an outsider (local IAM checks only the functions' own keys).
        os.environ.update(client_environment(state["aws_endpoint"]))
        boto3.setup_default_session()
        renew_clients()  # the layer's clients: a session that reads the environment just set

    def oldest_message_ages(self, queue_names: list[str]) -> dict[str, float]:
        """See :class:`Target`: locally moto holds them (its ``/_local/queues``), read now rather than sampled."""
        held = httpx.get(f"{self.stack.aws_endpoint}/_local/queues", timeout=10).raise_for_status().json()
        return {name: float(held[name]["ApproximateAgeOfOldestMessage"]) for name in queue_names if name in held}

    def physical_id(self, logical_id: str) -> str:
        """See :class:`Target` (locally a function's physical id is its logical id)."""
        if logical_id in self.resources:
            return self.resources[logical_id]["Ref"]
        if logical_id in self.functions():
            return logical_id
        raise OpsError(f"{self.description} has no resource {logical_id}")

    def logical_ids(self, resource_type: str) -> list[str]:
        """See :class:`Target`."""
        return [name for name in self.template.of_type(resource_type) if name in self.resources]

    def functions(self) -> list[str]:
        """See :class:`Target`."""
        return [spec.name for spec in self.template.functions()]

    def function_environment(self, function: str) -> dict[str, str]:
        """See :class:`Target`: as `make run` gives it to the function's containers."""
        return self.stack.environment_of(self.stack.spec(function))

    def invoke(self, function: str, event: Any) -> Invoked:
        """See :class:`Target`: in a fresh container, as ``python -m local.invoke`` does (its metrics counted)."""
        invocation = run_once(self.stack, self.state_file, function, event)
        return Invoked(invocation.payload, invocation.error)

    def secret_values(self) -> list[Any]:
        """See :class:`Target`: the local secrets file's values."""
        try:
            values: dict[str, Any] = json.loads(SECRETS_FILE.read_text())
        except (OSError, ValueError):
            return []
        return list(values.values())


class DeployedTarget(Target):
    """A CloudFormation stack, through boto3 with ``profile`` and ``region`` (or the SDK's own defaults)."""

    moves_messages = True

    def __init__(self, stack: str, *, region: str | None, profile: str | None) -> None:
        # The layer's clients (seawall.aws) have a botocore session of their own: the same profile and region.
        configure_session(profile=profile, region=region)
        try:
            boto3.setup_default_session(profile_name=profile, region_name=region)
            cloudformation = boto3.client("cloudformation")
            region = cloudformation.meta.region_name
            described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
            summaries = _resources(cloudformation, stack)
        except ProfileNotFound as error:
            raise OpsError(f"{error}: check --profile (or AWS_PROFILE)") from None
        except NoRegionError:
            raise OpsError("no AWS region: pass --region, or set AWS_DEFAULT_REGION") from None
        except NoCredentialsError:
            raise OpsError("no AWS credentials: pass --profile, or sign in (aws sso login)") from None
        except ClientError as error:
            if "does not exist" in error.response.get("Error", {}).get("Message", ""):
                raise OpsError(f"no stack named {stack!r} in {region}: check --stack, --region and --profile") from None
            raise
        self.description = f"stack {stack} ({region})"
        parameters = {
            p["ParameterKey"]: p.get("ResolvedValue", p["ParameterValue"]) for p in described.get("Parameters", [])
        }
        # The repository's template, with the stack's parameters: its schedules' inputs (static JSON) as deployed.
        self.template = Template(ROOT / "template.yaml", parameters)
        self.resources: dict[str, tuple[str, str]] = {
            summary["LogicalResourceId"]: (summary["ResourceType"], summary.get("PhysicalResourceId", ""))
            for summary in summaries
        }
        self._environment: dict[str, dict[str, str]] = {}

    def physical_id(self, logical_id: str) -> str:
        """See :class:`Target`."""
        if logical_id not in self.resources:
            raise OpsError(f"{self.description} has no resource {logical_id}")
        return self.resources[logical_id][1]

    def logical_ids(self, resource_type: str) -> list[str]:
        """See :class:`Target`."""
        return [name for name, (kind, _) in self.resources.items() if kind == resource_type]

    def functions(self) -> list[str]:
        """See :class:`Target`."""
        return self.logical_ids(FUNCTION)

    def function_environment(self, function: str) -> dict[str, str]:
        """See :class:`Target`: the deployed function's configuration (read once)."""
        if function not in self._environment:
            configuration = self.client("lambda").get_function_configuration(FunctionName=self.physical_id(function))
            self._environment[function] = configuration.get("Environment", {}).get("Variables", {})
        return self._environment[function]

    def secret_values(self) -> list[Any]:
        """See :class:`Target`: each secret of the stack this identity may read (the others masked by shape only)."""
        client = self.client("secretsmanager")
        values: list[Any] = []
        for name in self.logical_ids("AWS::SecretsManager::Secret"):
            try:
                text = client.get_secret_value(SecretId=self.physical_id(name)).get("SecretString") or ""
            except ClientError:
                continue  # not yet given a value, or not readable with these credentials
            try:
                values.append(json.loads(text))
            except ValueError:
                values.append(text)
        return values

    def invoke(self, function: str, event: Any) -> Invoked:
        """See :class:`Target`: one synchronous invocation, never resent (a lost answer is no reason to run twice)."""
        config = Config(read_timeout=INVOKE_READ_TIMEOUT_SECONDS, retries={"total_max_attempts": 1})
        answer = boto3.client("lambda", config=config).invoke(
            FunctionName=self.physical_id(function), Payload=json.dumps(event).encode()
        )
        payload = json.loads(answer["Payload"].read() or b"null")
        return Invoked(None, payload) if "FunctionError" in answer else Invoked(payload, None)


def _resources(cloudformation: Any, stack: str) -> list[dict[str, Any]]:
    """The stack's resources and its nested stacks' (each provider's application), as one list.

    Logical ids are unique across the bundle's templates (local.template), so one namespace holds them all.
    """
    pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack)
    summaries: list[dict[str, Any]] = []
    for summary in (summary for page in pages for summary in page["StackResourceSummaries"]):
        if summary["ResourceType"] == "AWS::CloudFormation::Stack" and summary.get("PhysicalResourceId"):
            summaries += _resources(cloudformation, summary["PhysicalResourceId"])
        else:
            summaries.append(summary)
    return summaries


def connect(stack: str | None, *, region: str | None, profile: str | None) -> Target:
    """The deployed ``stack``, or the local one when no stack is named."""
    target: Target = DeployedTarget(stack, region=region, profile=profile) if stack else LocalTarget()
    target.mask_secrets()
    return target
