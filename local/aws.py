"""moto server as AWS, and the template's tables, queues, buses and secrets created in it."""

from __future__ import annotations

import copy
import io
import json
import re
import threading
import time
from typing import Any, cast

import boto3
import moto.dynamodb.models as moto_dynamodb
from moto.core.common_models import BaseModel
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.sqs.models import sqs_backends
from werkzeug.serving import make_server

from local.iam import LocalIAM, parse_body
from local.template import PSEUDO_PARAMETERS, Template

REGION = PSEUDO_PARAMETERS["AWS::Region"]
ACCOUNT = PSEUDO_PARAMETERS["AWS::AccountId"]


# What boto3 needs to talk to moto instead of AWS; the functions get the same.
def client_environment(endpoint: str) -> dict[str, str]:
    """Environment variables pointing every AWS SDK call at ``endpoint``."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }


_SIGNED = re.compile(r"Credential=(?P<key>[^/]+)/[^/]+/[^/]+/(?P<service>[^/]+)/aws4_request")


def _error(status: int, code: str, message: str, start_response: Any) -> list[bytes]:
    body = json.dumps({"__type": code, "message": message}).encode()
    start_response(
        f"{status} {code}",
        [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("x-amzn-ErrorType", code),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def _untracked(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
    """A moto model instance that moto does not keep forever.

    moto lists every model instance it ever made, for its own dashboard: every
    DynamoDB item, SQS message and table. A transaction deep-copies each table
    it touches (to roll back), so a stack's memory grew with the square of its
    writes (20 GB after 1,750 transactions on a 2,000-item table, and the OOM
    killer). S3 alone reads its list (to reset): it keeps it.
    """
    instance = object.__new__(cls)
    if cls.__module__.startswith("moto.s3."):
        cls.instances_tracked.append(instance)  # type: ignore[attr-defined]
    return instance


BaseModel.__new__ = _untracked  # type: ignore[method-assign]


class _TablesKept:
    """``copy`` for moto's DynamoDB backend, except that a table is "copied" as itself (see below)."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_transact_write_items = moto_dynamodb.DynamoDBBackend.transact_write_items


def _transact_rolling_back_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """Moto's TransactWriteItems, rolled back item by item instead of from a copy of every table it touches.

    moto deep-copies each table a transaction touches, to restore it if the
    transaction is cancelled: each transaction then costs time in proportion to
    its tables (2,000 writes took minutes). MotoServer serves one request at a
    time, so restoring the transaction's own items (and its tables' stream
    records) is as atomic as the copy, and costs what DynamoDB's costs.
    """
    saved: list[tuple[Table, DynamoType, DynamoType | None, Any]] = []
    streams: dict[int, tuple[list[Any], int]] = {}
    for entry in transact_items:
        operation = next(iter(entry.values()))
        table = backend.tables.get(operation.get("TableName"))
        attributes = operation.get("Key") or operation.get("Item") or {}
        if table is None or table.hash_key_attr not in attributes:
            continue  # moto refuses it itself
        hash_key = DynamoType(attributes[table.hash_key_attr])
        range_attribute = attributes.get(table.range_key_attr) if table.range_key_attr else None
        range_key = DynamoType(range_attribute) if range_attribute is not None else None
        if table.has_range_key and range_key is None:
            continue
        saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        if table.stream_shard is not None:
            streams.setdefault(id(table), (table.stream_shard.items, len(table.stream_shard.items)))
    try:
        _transact_write_items(backend, transact_items)
    except Exception:
        for table, hash_key, range_key, item in reversed(saved):
            held: dict[Any, Any] = table.items if range_key is None else table.items[hash_key]
            key = hash_key if range_key is None else range_key
            if item is None:
                held.pop(key, None)
            else:
                held[key] = item
        for records, length in streams.values():
            del records[length:]
        raise


moto_dynamodb.copy = _TablesKept  # type: ignore[attr-defined,assignment]
moto_dynamodb.DynamoDBBackend.transact_write_items = _transact_rolling_back_items  # type: ignore[method-assign,assignment]


class _TransactionTokens:
    """DynamoDB's idempotent TransactWriteItems, which moto lacks.

    The SDK sends a ClientRequestToken with every transaction and sends it
    again when an answer is lost (a read timeout). DynamoDB answers a token that
    succeeded in the last ten minutes as it did, changing nothing, and refuses
    it with other items; moto would apply the transaction twice.
    """

    TTL_SECONDS = 600

    def __init__(self) -> None:
        # token -> (when, the request's items as JSON, the answer's status, headers and body)
        self._succeeded: dict[str, tuple[float, str, str, list[tuple[str, str]], list[bytes]]] = {}

    def serve(self, action: str, raw: bytes, apply: Any, start_response: Any) -> list[bytes]:
        """Answer a request (``action``: ``service:Operation``) by ``apply(start_response)``.

        A TransactWriteItems whose token already succeeded is answered as it was, and not applied.
        """
        body = parse_body(raw) if action == "dynamodb:TransactWriteItems" else {}
        token = body.get("ClientRequestToken")
        if not token:
            return list(apply(start_response))
        now = time.monotonic()
        self._succeeded = {k: v for k, v in self._succeeded.items() if now - v[0] < self.TTL_SECONDS}
        items = json.dumps(body.get("TransactItems"), sort_keys=True)
        if token in self._succeeded:
            _, first_items, status, headers, answer = self._succeeded[token]
            if first_items != items:
                message = "the ClientRequestToken was used with other TransactItems"
                return _error(400, "IdempotentParameterMismatchException", message, start_response)
            start_response(status, headers)
            return answer
        sent: list[Any] = []

        def recording(status: str, headers: Any, *rest: Any) -> Any:
            sent[:] = [status, list(headers)]
            return start_response(status, headers, *rest)

        answer = list(apply(recording))
        if sent and sent[0].startswith("200"):
            self._succeeded[token] = (now, items, sent[0], sent[1], answer)
        return answer


class MotoServer:
    """moto server on 127.0.0.1, in a thread of this process, one request at a time.

    moto's backends are not thread-safe: two conditional writes racing each
    other could both pass, which DynamoDB never allows. Serialising requests
    gives the tests DynamoDB's per-request atomicity.

    In front of moto sit what AWS has and moto lacks: IAM (``iam``: each
    function's calls are checked against its role and recorded), outages
    on demand (``down``: services, or one operation of a service such as
    ``dynamodb:TransactWriteItems``, that answer 503 ServiceUnavailable, set here
    or with ``POST /_local/faults {"down": ["events"]}``), and the queues'
    CloudWatch metrics (``GET /_local/queues``: :func:`queue_metrics`).
    """

    def __init__(self, port: int = 0) -> None:
        application = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()
        self.iam = LocalIAM()
        self.down: set[str] = set()
        transactions = _TransactionTokens()

        def serve(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(raw)
            if environ.get("PATH_INFO") == "/_local/faults":
                self.down = set(parse_body(raw).get("down", []))
                start_response("204 No Content", [])
                return []
            if environ.get("PATH_INFO") == "/_local/queues":
                with lock:
                    body = json.dumps(queue_metrics()).encode()
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
                return [body]
            signed = _SIGNED.search(environ.get("HTTP_AUTHORIZATION", ""))
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if signed:
                service = signed["service"]
                operation = target.rsplit(".", 1)[-1] if target else ""
                if service in self.down or f"{service}:{operation}" in self.down:
                    return _error(503, "ServiceUnavailable", f"{service} is down (local fault)", start_response)
                calls = self.iam.authorize(signed["key"], service, operation, parse_body(raw)) if operation else []
                denied = next((call for call in calls if not call.allowed), None)
                if denied is not None:
                    message = (
                        f"{signed['key']} is not authorized to perform {denied.action} on {denied.resource}"
                        " (local IAM, from template.yaml)"
                    )
                    print(f"[iam] denied: {message}")
                    return _error(400, "AccessDeniedException", message, start_response)

                def recording(status: str, headers: Any, *rest: Any) -> Any:
                    for call in calls:
                        call.status = int(status.split(maxsplit=1)[0])
                    return start_response(status, headers, *rest)

                with lock:
                    return transactions.serve(
                        f"{service}:{operation}", raw, lambda respond: application(environ, respond), recording
                    )
            with lock:
                return list(application(environ, start_response))

        self._server = make_server("127.0.0.1", port, serve, threaded=True, request_handler=MotoRequestHandler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}"
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Start serving; returns the endpoint URL."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.endpoint

    def stop(self) -> None:
        """Stop serving (all state is lost)."""
        self._server.shutdown()
        self._server.server_close()


def queue_metrics() -> dict[str, dict[str, float]]:
    """Each queue's AWS/SQS metrics now, by queue name: messages visible, in flight, and the oldest's age (s).

    Read from moto's backend: the age is no queue attribute, and receiving
    messages to see it would count as receives (and move them toward redrive).
    The age is the oldest visible message's (moto's public list): SQS's also
    counts messages in flight, so a message failing over and over shows late.
    """
    now_ms = time.time() * 1000
    metrics = {}
    for name, queue in sqs_backends[ACCOUNT][REGION].queues.items():
        # (moto's typing says None: it is set when the message is sent, in ms.)
        sent = [cast(float, message.sent_timestamp) for message in queue.messages if message.sent_timestamp]
        metrics[name] = {
            "ApproximateNumberOfMessagesVisible": float(queue.approximate_number_of_messages),
            "ApproximateNumberOfMessagesNotVisible": float(queue.approximate_number_of_messages_not_visible),
            "ApproximateAgeOfOldestMessage": float(int((now_ms - min(sent)) / 1000)) if sent else 0.0,
        }
    return metrics


def aws_client(service: str, endpoint: str) -> Any:
    """A boto3 client for ``service`` on moto at ``endpoint``."""
    env = client_environment(endpoint)
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def _generated_name(template: Template, logical_id: str) -> str:
    """A name for a resource the template leaves unnamed, unique per stack as CloudFormation makes it."""
    return f"{template.resolve({'Ref': 'AWS::StackName'})}-{logical_id}"


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def _secret(
    template: Template, name: str, props: dict[str, Any], endpoint: str, values: dict[str, Any]
) -> dict[str, str]:
    secret_name = template.resolve(props.get("Name", name))
    client = aws_client("secretsmanager", endpoint)
    arguments: dict[str, Any] = {"Name": secret_name}
    if name in values:
        arguments["SecretString"] = json.dumps(values[name])
    arn = client.create_secret(**arguments)["ARN"]
    return {"Ref": arn, "Id": arn, "Name": secret_name}


def _table(template: Template, name: str, props: dict[str, Any], endpoint: str) -> dict[str, str]:
    props = template.resolve(props)
    table_name = props.get("TableName") or _generated_name(template, name)
    client = aws_client("dynamodb", endpoint)
    arguments: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if props.get("GlobalSecondaryIndexes"):
        arguments["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    stream = props.get("StreamSpecification")
    if stream:
        arguments["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    table = client.create_table(**arguments)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and str(ttl.get("Enabled")).lower() == "true":
        client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    physical = {"Ref": table_name, "Arn": _arn("dynamodb", f"table/{table_name}")}
    if stream:
        physical["StreamArn"] = table["LatestStreamArn"]
    return physical


def _queue(template: Template, name: str, props: dict[str, Any], endpoint: str) -> dict[str, str]:
    props = template.resolve(props)
    queue_name = props.get("QueueName") or _generated_name(template, name)
    attributes = {key: _attribute(value) for key, value in props.items() if key not in ("QueueName", "Tags")}
    url = aws_client("sqs", endpoint).create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
    return {"Ref": url, "QueueUrl": url, "QueueName": queue_name, "Arn": _arn("sqs", queue_name)}


def _attribute(value: Any) -> str:
    """An SQS attribute as the API takes it: JSON for policies, lower-case booleans."""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _bus(template: Template, name: str, props: dict[str, Any], endpoint: str) -> dict[str, str]:
    bus_name = template.resolve(props.get("Name", name))
    arn = aws_client("events", endpoint).create_event_bus(Name=bus_name)["EventBusArn"]
    return {"Ref": bus_name, "Name": bus_name, "Arn": arn}


def _archive(template: Template, name: str, props: dict[str, Any], endpoint: str) -> dict[str, str]:
    props = template.resolve(props)
    archive_name = props.get("ArchiveName") or _generated_name(template, name)[:48]
    arn = aws_client("events", endpoint).create_archive(
        ArchiveName=archive_name,
        EventSourceArn=props["SourceArn"],
        RetentionDays=int(props.get("RetentionDays", 0)),
        Description=props.get("Description", ""),
    )["ArchiveArn"]
    return {"Ref": archive_name, "ArchiveName": archive_name, "Arn": arn}


def provision(template: Template, endpoint: str, secret_values: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Create the template's secrets, tables, queues, buses and archives in moto; returns their physical ids.

    Resources are created in passes so that one referring to another (a queue's
    dead-letter queue) comes after it.
    """
    creators = {
        "AWS::SecretsManager::Secret": lambda n, p: _secret(template, n, p, endpoint, secret_values),
        "AWS::DynamoDB::Table": lambda n, p: _table(template, n, p, endpoint),
        "AWS::SQS::Queue": lambda n, p: _queue(template, n, p, endpoint),
        "AWS::Events::EventBus": lambda n, p: _bus(template, n, p, endpoint),
        "AWS::Events::Archive": lambda n, p: _archive(template, n, p, endpoint),
    }
    pending = {name: spec for name, spec in template.resources.items() if spec["Type"] in creators}
    while pending:
        ready = {name: spec for name, spec in pending.items() if not (_refers(spec) & pending.keys())}
        if not ready:
            raise ValueError(f"circular references between {sorted(pending)}")
        for name, spec in ready.items():
            template.physical[name] = creators[spec["Type"]](name, spec.get("Properties", {}))
            del pending[name]
    return template.physical


def _refers(value: Any) -> set[str]:
    """Logical ids that ``value`` refers to through Ref or Fn::GetAtt."""
    if isinstance(value, list):
        return set().union(*(_refers(item) for item in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found = set()
    if isinstance(value.get("Ref"), str):
        found.add(value["Ref"])
    if isinstance(value.get("Fn::GetAtt"), list):
        found.add(value["Fn::GetAtt"][0])
    return found.union(*(_refers(item) for item in value.values())) if value else found
