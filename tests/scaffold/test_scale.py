"""The bundle deploys with 30 providers: every stack well under CloudFormation's limits, every template valid.

Thirty providers are generated into a copy of the repository as `make provider` generates them (in this
process, for time), alternating the options. Each stack is transformed by the SAM translator, as
CloudFormation's transform runs it, and its resources counted; each template's size is held to the limit
for a template `sam deploy` uploads; cfn-lint reads them all, `sam validate --lint` the root, and `sam
build` builds the root with all thirty.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from local.digests import stale, templates
from local.template import Template
from scaffold.generate import add
from scaffold.spec import provider_spec
from tests.scaffold.test_scaffold import SAM, check, copy_repository

PROVIDERS = 30
# CloudFormation: 500 resources a stack (kept under 450: room to grow), 1 MB a template uploaded to S3.
MAX_RESOURCES = 450
MAX_TEMPLATE_BYTES = 1_000_000
OPTIONS = [("bearer", "none"), ("basic", "standard"), ("api-key", "hmac"), ("signed", "none")]

# Run by the SAM CLI's interpreter: each template transformed, its resources counted.
COUNT = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class Loader:
    def load(self):
        return {}

counts = {}
for path in sys.argv[1:]:
    document = yaml_parse(open(path).read())
    for resource in document["Resources"].values():
        properties = resource.setdefault("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            properties["CodeUri"] = "s3://bucket/function.zip"
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = "s3://bucket/layer.zip"
        if resource["Type"] == "AWS::Serverless::Application":
            properties["Location"] = "https://s3.amazonaws.com/bucket/template.yaml"
    parameters = {name: "dynamodb" if name == "StateBackend" else "1" for name in document.get("Parameters", {})}
    counts[path] = len(transform(document, parameters, Loader())["Resources"])
print(json.dumps(counts))
"""


def generate(root: Path, count: int) -> list[str]:
    """``count`` providers with two actions each (one with an Idempotency-Key), options alternating."""
    names = []
    for number in range(count):
        name = f"vendor{number:02d}"
        auth, webhooks = OPTIONS[number % len(OPTIONS)]
        actions = [f"GET /{name}-items/{{item_id}}", f"POST /{name}-items"]
        add(provider_spec(name, auth, webhooks, actions), root)
        names.append(name)
    return names


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = copy_repository(tmp_path_factory.mktemp("thirty"))
    return root, generate(root, PROVIDERS)


def test_every_stack_stays_under_cloudformations_limits(bundle: tuple[Path, list[str]]) -> None:
    root, names = bundle
    paths = templates(root)
    assert len(paths) == PROVIDERS + 4  # the root, Stripe, Hotelbeds, the operations
    assert stale(root) == []
    environment = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": os.environ["PATH"]}
    counted = subprocess.run(
        [str(SAM / "python"), "-c", COUNT, *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    counts: dict[str, int] = json.loads(counted.stdout.strip().splitlines()[-1])
    print({Path(path).relative_to(root).as_posix(): count for path, count in counts.items()})
    assert all(count < MAX_RESOURCES for count in counts.values()), counts
    assert all(path.stat().st_size < MAX_TEMPLATE_BYTES for path in paths)
    # A provider of two actions is a template of under 200 lines (its webhooks, when it has them, add their own).
    for number, name in enumerate(names):
        if OPTIONS[number % len(OPTIONS)][1] == "none":
            assert len((root / "functions" / name / "template.yaml").read_text().splitlines()) < 200, name
    # Locally the bundle is one namespace, every route on its API.
    bundle = Template(root / "template.yaml")
    # Every saved query reads at most what Logs Insights takes (50 log groups), and what a nested stack's
    # parameter holds (4,096 bytes: a log group's name is about 90), however many providers there are.
    for query in bundle.of_type("AWS::Logs::QueryDefinition").values():
        groups = set(re.findall(r"\w+FunctionLogGroup", json.dumps(query["Properties"]["LogGroupNames"])))
        assert len(groups) * 90 < 4096
    routes = {route.path for spec in bundle.functions() for route in spec.routes}
    assert {f"/{name}-items/{{item_id}}" for name in names} <= routes


def test_every_template_is_valid(bundle: tuple[Path, list[str]]) -> None:
    root, _ = bundle
    check(root, SAM / "sam", "validate", "--lint")
    check(root, SAM / "cfn-lint", *(str(path.relative_to(root)) for path in templates(root)), timeout=900)


def test_the_root_builds_with_all_thirty(bundle: tuple[Path, list[str]]) -> None:
    root, names = bundle
    # Lambda's Python builds the functions, as `make build` gives it (pyenv here; PATH elsewhere).
    environment = {**os.environ, "PYENV_VERSION": "3.13.0", "SAM_CLI_TELEMETRY": "0"}
    built = subprocess.run(
        [str(SAM / "sam"), "build", "--parallel"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-2000:]
    stacks = set(Template(root / ".aws-sam" / "build" / "template.yaml").stacks.values())
    assert {name.title() for name in names} <= stacks
