"""Every events/ file, invoked through its function as `sam local invoke -e` would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from local.replay import replay
from local.stack import LocalStack
from local.template import Template
from seawall.config import Secret
from seawall.observability import logger
from seawall.providers.hotelbeds.secrets import HotelbedsSecret
from seawall.providers.stripe.secrets import StripeSecret
from tests.conftest import LogCapture
from tests.support.stack import ROOT

EVENTS = sorted((ROOT / "events").rglob("*.json"))


def folder(spec_or_event: Path) -> Path:
    """A function's code folder under functions/, or an event's folder under events/: the same path for both."""
    base = ROOT / ("events" if spec_or_event.suffix == ".json" else "functions")
    return (spec_or_event.parent if spec_or_event.suffix == ".json" else spec_or_event).relative_to(base)


def function_for(event_file: Path) -> str:
    """events/<path>/x.json belongs to the function whose CodeUri is functions/<path>/."""
    for spec in Template(ROOT / "template.yaml").functions():
        if folder(spec.code_dir.resolve()) == folder(event_file):
            return spec.name
    raise AssertionError(f"no function for {event_file}")


def test_every_function_has_sample_events() -> None:
    folders = {folder(path) for path in EVENTS}
    for spec in Template(ROOT / "template.yaml").functions():
        code = folder(spec.code_dir.resolve())
        assert code in folders, f"{spec.path} has no events/{code}/*.json"


@pytest.fixture(scope="module", autouse=True)
def sample_booking(project_stack: LocalStack, seeded_secrets: dict[str, Any]) -> None:
    """The booking the hotel-booking events name, made as a user would: the create event, then the worker."""
    create = project_stack.function("HotelBookingsCreateFunction").invoke(
        load_event(ROOT / "events/hotelbeds/hotel_bookings_create/post.json", seeded_secrets)
    )
    assert create["statusCode"] == HTTPStatus.ACCEPTED, create
    worked = project_stack.function("HotelBookingWorkerFunction").invoke(
        load_event(ROOT / "events/hotelbeds/hotel_booking_worker/sqs_batch.json", seeded_secrets)
    )
    assert worked == {"batchItemFailures": []}


def load_event(path: Path, seeded_secrets: dict[str, Any]) -> dict[str, Any]:
    """The event as `make invoke` sends it: as of now (local.replay)."""
    return replay(json.loads(path.read_text()), seeded_secrets)


@pytest.mark.parametrize("event_file", EVENTS, ids=lambda path: str(path.relative_to(ROOT / "events")))
def test_event_file_invokes_its_function(
    project_stack: LocalStack, seeded_secrets: dict[str, Any], event_file: Path
) -> None:
    event = load_event(event_file, seeded_secrets)
    function = function_for(event_file)
    response = project_stack.function(function).invoke(event)
    if "Records" in event:  # an SQS or stream batch: every record succeeded
        assert response == {"batchItemFailures": []}
        return
    if project_stack.spec(function).schedules:  # a schedule's input: the run's report
        assert response.get("outcome", "caught-up") in ("caught-up", "lease-held"), response
        return
    assert 200 <= response["statusCode"] < 300, response
    json.loads(response["body"])


def test_health_answers_who_it_is(project_stack: LocalStack) -> None:
    response = project_stack.function("HealthFunction").invoke(
        json.loads((ROOT / "events/health/get.json").read_text())
    )
    assert json.loads(response["body"]) == {
        "status": "ok",
        "service": "integrations",
        "stage": "dev",
        "version": "0.1.0",
    }


def _values(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _values(item)]
    if isinstance(value, list):
        return [text for item in value for text in _values(item)]
    return [value] if isinstance(value, str) else []


def test_no_seeded_secret_value_reaches_logs_or_responses(
    project_stack: LocalStack,
    seeded_secrets: dict[str, Any],
    logs: LogCapture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    physical = project_stack.template.physical
    stripe = Secret(physical["StripeSecret"]["Ref"], StripeSecret, label="stripe").get()
    hotelbeds = Secret(physical["HotelbedsSecret"]["Ref"], HotelbedsSecret, label="hotelbeds").get()
    # Careless logging of every kind a handler might do.
    logger.info(f"stripe key {stripe.api_key.get_secret_value()}")
    logger.warning("hotelbeds", extra={"credentials": {"secret": hotelbeds.secret.get_secret_value()}})
    logger.error("model", extra={"stripe": stripe.model_dump(mode="json")})
    invocations = [project_stack.function(function_for(path)).run(load_event(path, seeded_secrets)) for path in EVENTS]
    captured = capfd.readouterr()
    everything = (
        logs.text
        + captured.out
        + captured.err
        + "".join(invocation.logs for invocation in invocations)
        + json.dumps([invocation.payload for invocation in invocations])
    )
    secrets = _values(seeded_secrets)
    assert len(secrets) >= 4
    for value in secrets:
        assert value not in everything
    assert logs.text.count("[REDACTED]") >= 2


def test_a_bad_environment_fails_the_cold_start_naming_the_variable() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "STAGE"}
    environment["DEADLINE_MARGIN_MS"] = "-7301"
    script = "import sys; sys.path[:0] = ['layers/shared', 'functions/health']; import app"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("seawall.errors.ConfigError: environment: DEADLINE_MARGIN_MS, STAGE:")
    assert "-7301" not in last


def test_a_bad_environment_fails_each_invocation_of_a_new_container_as_lambda_does(project_stack: LocalStack) -> None:
    broken = LocalStack(ROOT / "template.yaml", project_stack.aws_endpoint, environment={"STATE_BACKEND": "postgres"})
    broken.adopt(project_stack.template.physical)
    function = broken.function("CustomersGetFunction")
    try:
        invocation = function.run(json.loads((ROOT / "events" / "stripe" / "customers_get" / "get.json").read_text()))
    finally:
        broken.stop()
    assert invocation.error is not None
    assert invocation.error["errorType"] == "ConfigError"
    assert "STATE_BACKEND" in invocation.error["errorMessage"]
    assert "postgres" not in invocation.error["errorMessage"]
    assert invocation.cold_start
