"""The one handler decorator: correlation ids, deadline binding, metrics flushing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from seawall.deadline import current_deadline
from seawall.handler import instrumented
from seawall.observability import correlation, error_name, logger, metrics
from tests.conftest import LogCapture, json_lines
from tests.support.events import api_event


@dataclass
class Context:
    function_name: str = "fn"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": [{"messageId": f"m{i}", "body": "{}", **record} for i, record in enumerate(records)]}


def test_api_gateway_requests_log_their_request_id(logs: LogCapture) -> None:
    @instrumented(correlation.API_GATEWAY_REST, trace=False)
    def handler(event: Any, context: Any) -> None:
        logger.info("inside")

    handler(api_event("GET", "/x"), Context())
    (record,) = logs.records()
    assert record["correlation_id"] == "8b6f2d7e-1a2b-4c3d-9e8f-0a1b2c3d4e5f"
    assert record["function_name"] == "fn"


def test_sqs_messages_carry_the_queueing_requests_id(logs: LogCapture) -> None:
    seen = []

    @instrumented(correlation.SQS, trace=False)
    def handler(event: Any, context: Any) -> None:
        logger.info("batch")
        for record in event["Records"]:
            seen.append(correlation.correlate_record(record))
            logger.info("record")

    tagged = {"messageAttributes": {"correlation_id": {"stringValue": "req-abc", "dataType": "String"}}}
    handler(sqs_event(tagged, {}), Context())
    assert seen == ["req-abc", "m1"]
    assert [r["correlation_id"] for r in logs.records()] == ["req-abc", "req-abc", "m1"]


def test_the_deadline_is_bound_for_the_invocation_only() -> None:
    remaining = []

    @instrumented(trace=False)
    def handler(event: Any, context: Any) -> None:
        deadline = current_deadline()
        assert deadline is not None
        remaining.append(deadline.remaining())

    handler({}, Context())
    assert 2.0 < remaining[0] <= 2.5  # 3 s left minus the 500 ms margin
    assert current_deadline() is None


def test_metrics_added_during_the_invocation_are_flushed_as_emf(capsys: pytest.CaptureFixture[str]) -> None:
    @instrumented(trace=False)
    def handler(event: Any, context: Any) -> str:
        metrics.add_metric(name="WebhookAccepted", unit=MetricUnit.Count, value=1)
        return "done"

    assert handler({}, Context()) == "done"
    (blob,) = [line for line in json_lines(capsys.readouterr().out) if "WebhookAccepted" in line]
    assert blob["WebhookAccepted"] == [1.0]
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "IntegrationsTest"


def test_an_error_is_named_by_its_class_and_an_aws_error_by_its_code_too() -> None:
    from botocore.exceptions import ClientError

    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutItem")
    assert error_name(throttled) == "ClientError(ThrottlingException)"
    assert error_name(ClientError({}, "GetItem")) == "ClientError"  # no code said: the class alone
    missing = type("ResourceNotFoundException", (ClientError,), {})  # botocore's class for a modeled error
    modeled = missing({"Error": {"Code": "ResourceNotFoundException"}}, "GetItem")
    assert error_name(modeled) == "ResourceNotFoundException"
    assert error_name(TimeoutError("read timed out")) == "TimeoutError"  # never the message
