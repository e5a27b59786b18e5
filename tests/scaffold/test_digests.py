"""A change CloudFormation cannot see still reaches callers: the templates carry the layer's and the routes' digests.

Each template is transformed by the SAM translator (the SAM CLI's own, as
CloudFormation's transform runs it), packaged twice with the same function
code: the published versions change with the layer's digest, and only then.
The REST API's deployment is named by a digest of every route of the bundle,
so a route changed in a provider's template is deployed again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from local.digests import layer_digest, recorded, routes_digest, stale, templates, write
from local.template import Template

ROOT = Path(__file__).resolve().parents[2]
SAM_PYTHON = ROOT / ".tools" / "sam" / "bin" / "python"

# Run by the SAM CLI's interpreter: the Version resources, the template transformed with each LAYER_DIGEST given.
TRANSFORM = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class Loader:
    def load(self):
        return {}

versions = []
for digest in sys.argv[2:]:
    document = yaml_parse(open(sys.argv[1]).read())
    document["Globals"]["Function"]["Environment"]["Variables"]["LAYER_DIGEST"] = digest
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/function.zip"
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = "s3://bucket/" + digest + ".zip"
    resources = transform(document, {}, Loader())["Resources"]
    versions.append(sorted(name for name, resource in resources.items() if resource["Type"] == "AWS::Lambda::Version"))
print(json.dumps(versions))
"""


def published_versions(template: Path, *digests: str) -> list[list[str]]:
    result = subprocess.run(
        [str(SAM_PYTHON), "-c", TRANSFORM, str(template), *digests],
        capture_output=True,
        text=True,
        check=True,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    versions: list[list[str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return versions


def test_every_template_carries_the_current_digests() -> None:
    assert recorded() == layer_digest()
    assert len(templates()) >= 3
    assert stale() == []


def test_a_new_layer_digest_publishes_every_function_again_and_the_same_one_none() -> None:
    functions = 0
    for template in (path for path in templates() if "LAYER_DIGEST" in path.read_text()):
        first, again, changed = published_versions(template, "aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb")
        functions += len(first)
        assert first == again
        assert not set(first) & set(changed)
    assert functions >= 17


def copy_bundle(into: Path) -> None:
    """The layer and every template of the bundle (what the digests are made of)."""
    shutil.copytree(ROOT / "layers", into / "layers", ignore=shutil.ignore_patterns("__pycache__"))
    for template in templates():
        (into / template.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(template, into / template.relative_to(ROOT))


def test_the_layer_digest_follows_any_change_to_the_layer_and_is_written_into_every_template(tmp_path: Path) -> None:
    copy_bundle(tmp_path)
    before = layer_digest(tmp_path)
    assert before == recorded(tmp_path)
    with (tmp_path / "layers" / "shared" / "seawall" / "errors.py").open("a") as module:
        module.write("\n")
    assert layer_digest(tmp_path) != before
    with_functions = [path for path in templates(tmp_path) if "LAYER_DIGEST" in path.read_text()]
    assert len(with_functions) >= 3
    assert stale(tmp_path) == with_functions
    assert write(tmp_path) == recorded(tmp_path) != before
    assert stale(tmp_path) == []


def test_a_providers_layer_changes_its_own_templates_digest_only(tmp_path: Path) -> None:
    copy_bundle(tmp_path)
    stripe = tmp_path / "functions" / "stripe" / "template.yaml"
    before = layer_digest(tmp_path, "stripe")
    assert f'LAYER_DIGEST: "{before}"' in stripe.read_text()
    assert before != layer_digest(tmp_path)  # the core's and Stripe's layers, not the core's alone
    with (tmp_path / "layers" / "stripe" / "seawall" / "providers" / "stripe" / "errors.py").open("a") as module:
        module.write("\n")
    assert stale(tmp_path) == [stripe]
    write(tmp_path)
    assert f'LAYER_DIGEST: "{layer_digest(tmp_path, "stripe")}"' in stripe.read_text()
    assert layer_digest(tmp_path, "stripe") != before


def test_a_route_changed_in_a_providers_template_makes_a_new_deployment(tmp_path: Path) -> None:
    copy_bundle(tmp_path)
    before = routes_digest(tmp_path)
    provider = tmp_path / "functions" / "hotelbeds" / "template.yaml"
    provider.write_text(provider.read_text().replace("PathPart: availability", "PathPart: availabilities"))
    assert stale(tmp_path) == [tmp_path / "template.yaml"]
    write(tmp_path)
    after = routes_digest(tmp_path)
    assert after != before
    root = Template(tmp_path / "template.yaml")
    (deployment,) = root.of_type("AWS::ApiGateway::Deployment")
    assert deployment == f"ApiDeployment{after}"
    assert root.resources["ApiStage"]["Properties"]["DeploymentId"] == {"Ref": deployment}


def test_the_deployment_is_made_after_every_route_and_gateway_response() -> None:
    bundle = Template(ROOT / "template.yaml")
    resources = bundle.document["Resources"]
    (deployment,) = bundle.of_type("AWS::ApiGateway::Deployment")
    # Its own routes and gateway responses, and every application declaring routes (the API's methods).
    routed = {bundle.stacks[name] for name in bundle.of_type("AWS::ApiGateway::Method")} - {""}
    own = {
        name
        for name, resource in resources.items()
        if resource["Type"] in ("AWS::ApiGateway::Method", "AWS::ApiGateway::GatewayResponse")
    }
    assert routed >= {"Stripe", "Hotelbeds"}
    assert len(own) >= 5
    assert set(resources[deployment]["DependsOn"]) == own | routed
