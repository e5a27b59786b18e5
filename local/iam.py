"""IAM, locally: each function calls AWS with credentials of its own, and moto refuses what its role does not grant.

The template's ``Policies`` are read as SAM would expand them (inline
``Statement`` documents, and the two SAM policy templates this template uses),
resolved against the resources the local stack created. Every call is
recorded — function, action, resource, allowed — so tests can hold the grants
to what the code calls, in both directions.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from local.template import PSEUDO_PARAMETERS, FunctionSpec, Template

REGION = PSEUDO_PARAMETERS["AWS::Region"]
ACCOUNT = PSEUDO_PARAMETERS["AWS::AccountId"]
# The secret every function's access key goes with (moto checks no signature; the key names the function).
FUNCTION_SECRET_KEY = "local-function-secret"  # noqa: S105 (not a secret: moto checks no signature)


@dataclass(frozen=True)
class Grant:
    """Actions allowed on resources (both may hold ``*`` wildcards)."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def allows(self, action: str, resource: str) -> bool:
        """Whether this grant covers ``action`` on ``resource``."""
        return any(fnmatch.fnmatchcase(action, pattern) for pattern in self.actions) and any(
            fnmatch.fnmatchcase(resource, pattern) for pattern in self.resources
        )


@dataclass
class Call:
    """One action of one AWS request a principal made (``request`` numbers the request), and its HTTP status."""

    principal: str
    action: str
    resource: str
    allowed: bool
    request: int = 0
    status: int = 0


def _listed(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in (value if isinstance(value, list) else [value]))


def function_grants(template: Template, spec: FunctionSpec) -> list[Grant]:
    """The function's grants from its ``Policies`` (resolved: conditions applied, references filled in)."""
    grants: list[Grant] = []
    for policy in template.resolve(spec.policies):
        if not isinstance(policy, dict):
            raise TypeError(f"{spec.name}: managed policy {policy!r} is not supported locally; use a Statement")
        if "Statement" in policy:
            grants += [
                Grant(_listed(statement["Action"]), _listed(statement["Resource"]))
                for statement in policy["Statement"]
                if statement.get("Effect") == "Allow"
            ]
        elif "AWSSecretsManagerGetSecretValuePolicy" in policy:
            arn = policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]
            grants.append(Grant(("secretsmanager:GetSecretValue",), (arn,)))
        elif "EventBridgePutEventsPolicy" in policy:
            bus = policy["EventBridgePutEventsPolicy"]["EventBusName"]
            grants.append(Grant(("events:PutEvents",), (_bus(bus),)))
        else:
            raise ValueError(f"{spec.name}: policy template {sorted(policy)} is not supported locally")
    return grants


def _bus(name: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"


def _table(name: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def _dynamodb(operation: str, body: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    if operation == "TransactWriteItems":  # IAM checks each item's own action
        for item in body.get("TransactItems", []):
            for kind, request in item.items():
                yield f"dynamodb:{_TRANSACT[kind]}", _table(request["TableName"])
    elif operation == "TransactGetItems":
        for item in body.get("TransactItems", []):
            yield "dynamodb:GetItem", _table(item["Get"]["TableName"])
    elif operation in ("BatchWriteItem", "BatchGetItem"):
        yield from ((f"dynamodb:{operation}", _table(table)) for table in body.get("RequestItems", {}))
    elif "StreamArn" in body or "ShardIterator" in body:
        stream = body.get("StreamArn") or str(body.get("ShardIterator", "")).split("|", 1)[0]
        yield f"dynamodb:{operation}", stream
    elif "IndexName" in body:  # a Query or Scan of an index needs the index's own ARN
        yield f"dynamodb:{operation}", f"{_table(str(body.get('TableName', '*')))}/index/{body['IndexName']}"
    else:
        yield f"dynamodb:{operation}", _table(str(body.get("TableName", "*")))


class LocalIAM:
    """Principals (one per function) and what their roles grant; the log of every call."""

    def __init__(self) -> None:
        self.grants: dict[str, list[Grant]] = {}
        self.secret_arns: dict[str, str] = {}
        self.calls: list[Call] = []
        self._requests = 0
        self._lock = threading.Lock()

    def add_function(self, template: Template, spec: FunctionSpec, principal: str) -> None:
        """Give ``principal`` (the function's access key) the function's grants."""
        self.grants[principal] = function_grants(template, spec)
        for ids in template.physical.values():
            if ids.get("Name") and str(ids.get("Ref", "")).startswith("arn:aws:secretsmanager:"):
                self.secret_arns[ids["Name"]] = ids["Ref"]

    def requests(self, service: str, operation: str, body: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The (action, resource) pairs IAM checks for one request."""
        if service == "dynamodb":
            return list(_dynamodb(operation, body))
        if service == "sqs":
            queue = urlsplit(str(body.get("QueueUrl", ""))).path.rsplit("/", 1)[-1] or "*"
            # Batch operations are authorised as their single forms (SendMessageBatch needs sqs:SendMessage).
            return [(f"sqs:{operation.removesuffix('Batch')}", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}")]
        if service == "secretsmanager":
            secret = str(body.get("SecretId", "*"))
            return [(f"secretsmanager:{operation}", self.secret_arns.get(secret, secret))]
        if service == "events" and operation == "PutEvents":
            buses = {str(entry.get("EventBusName") or "default") for entry in body.get("Entries", [])}
            return [("events:PutEvents", _bus(bus)) for bus in sorted(buses)]
        return [(f"{service}:{operation}", "*")]

    def authorize(self, principal: str, service: str, operation: str, body: Mapping[str, Any]) -> list[Call]:
        """The request's calls, recorded; any not ``allowed`` means the request is refused.

        Principals that are not functions (tests, tools) are allowed everything and not recorded.
        """
        grants = self.grants.get(principal)
        if grants is None:
            return []
        with self._lock:
            self._requests += 1
            calls = [
                Call(
                    principal, action, resource, any(grant.allows(action, resource) for grant in grants), self._requests
                )
                for action, resource in self.requests(service, operation, body)
            ]
            self.calls += calls
        return calls


def parse_body(raw: bytes) -> dict[str, Any]:
    """A JSON-protocol request body (``{}`` when it is something else)."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
