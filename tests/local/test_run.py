"""`make run`'s process: it serves, refuses a second copy, and Ctrl-C stops everything it started."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local.template import Template
from seawall.providers.stripe.webhooks import verify_signature
from tests.local.conftest import FIXTURE
from tests.support.make_run import BANNER_END, FREE_PORTS, ROOT, read_until, run_module, start, stop


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    process = start(tmp_path, FIXTURE)
    banner = read_until(process, BANNER_END)
    yield process, banner, tmp_path
    stop(process)


def test_it_serves_prints_what_it_serves_and_stops_on_ctrl_c(stack: tuple[subprocess.Popen[str], str, Path]) -> None:
    process, banner, state_dir = stack
    gateway = re.search(r"Gateway \(API Gateway stand-in\): (http://127\.0\.0\.1:\d+)", banner)
    aws = re.search(r"AWS \(moto server\): (http://127\.0\.0\.1:\d+)", banner)
    assert gateway and aws, banner
    assert "GET    /items/{id}" in banner
    assert "(IAM)" in banner and "(public)" in banner
    assert str(state_dir / "secrets.json") in banner
    assert (state_dir / "secrets.json").stat().st_mode & 0o077 == 0

    upstash = re.search(r"Upstash \(REST endpoint over Valkey on port (\d+)\): (http://127\.0\.0\.1:\d+)", banner)
    assert upstash, banner
    token = json.loads((state_dir / "secrets.json").read_text())["UpstashSecret"]["token"]

    assert httpx.get(f"{gateway.group(1)}/items/special").status_code == 200
    assert httpx.post(aws.group(1), data={"Action": "ListQueues"}).status_code < 500
    pong = httpx.post(upstash.group(2), json=["PING"], headers={"Authorization": f"Bearer {token}"})
    assert pong.json() == {"result": "PONG"}

    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Local stack stopped." in output
    assert not (state_dir / "stack.json").exists()
    for url in (gateway.group(1), aws.group(1), upstash.group(2), f"http://127.0.0.1:{upstash.group(1)}"):
        with pytest.raises(httpx.ConnectError):
            httpx.get(url)


def test_a_second_run_says_one_is_running(stack: tuple[subprocess.Popen[str], str, Path]) -> None:
    first, _, state_dir = stack
    second = start(state_dir, FIXTURE)
    output, _ = second.communicate(timeout=60)
    assert second.returncode == 1
    assert f"already running (pid {first.pid})" in output
    assert first.poll() is None


def test_a_taken_port_is_reported_plainly(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_module(
            ["local", "--template", str(FIXTURE), *FREE_PORTS[2:]],
            tmp_path,
            LOCAL_GATEWAY_PORT=str(port),
        )
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is taken" in result.stderr
    assert "LOCAL_GATEWAY_PORT" in result.stderr


def test_invoke_runs_one_function_against_the_running_stack(stack: tuple[subprocess.Popen[str], str, Path]) -> None:
    _, _, state_dir = stack
    gateway = json.loads((state_dir / "stack.json").read_text())["gateway"]

    def invocations() -> float:
        """The running stack's count of EchoFunction's invocations, as its dashboard reads it."""
        metrics = httpx.get(f"{gateway}/_local/metrics").json()["metrics"]
        wanted = {"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": {"FunctionName": "EchoFunction"}}
        found = [series for series in metrics if wanted.items() <= series.items()]
        return sum(value for series in found for _, value in series["datapoints"])

    before = invocations()
    event = ROOT / "events" / "health" / "get.json"
    result = run_module(["local.invoke", "EchoFunction", "-e", str(event)], state_dir)
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    body = json.loads(response["body"])
    assert body["event"]["path"] == "/health"
    assert body["environment"]["TABLE_NAME"] == "integrations-local-items"
    assert invocations() == before + 1  # the run in a process of its own is counted where the dashboard reads


def test_invoke_without_a_running_stack_says_how_to_start_one(tmp_path: Path) -> None:
    result = run_module(["local.invoke", "EchoFunction", "-e", "events/health/get.json"], tmp_path)
    assert result.returncode == 1
    assert "make run" in result.stderr


def test_env_json_gives_sam_local_invoke_the_running_stacks_settings(
    stack: tuple[subprocess.Popen[str], str, Path],
) -> None:
    _, banner, state_dir = stack
    result = run_module(["local.samlocal", "env-json", "--host", "host.docker.internal"], state_dir)
    assert result.returncode == 0, result.stderr
    document = json.loads((state_dir / "env.json").read_text())
    aws = re.search(r"AWS \(moto server\): http://127\.0\.0\.1:(\d+)", banner)
    assert aws
    echo = document["EchoFunction"]
    assert echo["TABLE_NAME"] == "integrations-local-items"
    assert echo["STAGE"] == "test"
    endpoint = f"http://host.docker.internal:{aws.group(1)}"
    assert echo["AWS_ENDPOINT_URL"] == endpoint
    # SAM applies declared variables only: the template for `sam local` declares them all, the endpoint too.
    derived = Template(state_dir / "template.yaml")
    (spec, *_) = derived.functions()
    assert set(echo) <= set(spec.environment)
    assert spec.environment["AWS_ENDPOINT_URL"] == endpoint
    assert spec.code_dir.is_absolute() and (spec.code_dir / "app.py").exists()  # its paths, wherever it is
    assert "AWS_ENDPOINT_URL" not in FIXTURE.read_text()  # the deployable template declares nothing local
    assert f"-t {state_dir / 'template.yaml'}" in result.stdout
    assert "--env-vars" in result.stdout


def test_sign_event_re_signs_a_delivery_with_the_local_secret(
    stack: tuple[subprocess.Popen[str], str, Path],
) -> None:
    _, _, state_dir = stack
    secrets_file = state_dir / "secrets.json"
    secrets = json.loads(secrets_file.read_text())
    secrets["StripeWebhookSecret"] = {"webhook_secrets": ["whsec_signeventtest000000000000"]}
    secrets_file.write_text(json.dumps(secrets))
    event = ROOT / "events" / "stripe" / "stripe_webhook" / "payment_intent_succeeded.json"
    result = run_module(["local.samlocal", "sign-event", str(event)], state_dir)
    assert result.returncode == 0, result.stderr
    written = Path(result.stdout.strip())
    signed = json.loads((written if written.is_absolute() else ROOT / written).read_text())
    verify_signature(
        signed["body"].encode(), signed["headers"]["Stripe-Signature"], ["whsec_signeventtest000000000000"]
    )
    assert signed["body"] == json.loads(event.read_text())["body"]


def test_call_signs_as_the_local_caller_and_prints_the_answer(stack: tuple[subprocess.Popen[str], str, Path]) -> None:
    _, _, state_dir = stack
    got = run_module(["local.call", "GET", "/items/it_9"], state_dir)  # an IAM route: signed, or 403
    assert got.returncode == 0, got.stdout + got.stderr
    status, *rest = got.stdout.splitlines()
    assert status == "HTTP 200 OK"
    event = json.loads("\n".join(rest[rest.index("") + 1 :]))["event"]
    assert event["requestContext"]["identity"]["userArn"].endswith(":user/local-developer")
    posted = run_module(["local.call", "POST", "/items", '{"name": "n"}', "--caller", "testing2"], state_dir)
    assert posted.returncode == 0, posted.stdout + posted.stderr
    body = json.loads(posted.stdout.split("\n\n", 1)[1])["event"]
    assert body["requestContext"]["identity"]["userArn"].endswith(":user/local-second-caller")
    assert len(body["headers"]["Idempotency-Key"]) == 36  # a POST gets a fresh key
    assert json.loads(body["body"]) == {"name": "n"}
    missing = run_module(["local.call", "GET", "/nowhere"], state_dir)
    assert missing.returncode == 1
    assert missing.stdout.startswith("HTTP 404")
    assert run_module(["local.call", "POST", "/items", "{not json"], state_dir).returncode == 2
