"""A change to the shared layer alone reaches the `live` alias: template.yaml carries the layer's digest.

The template is transformed by the SAM translator (the SAM CLI's own, as
CloudFormation's transform runs it), packaged twice with the same function
code: the published versions change with the layer's digest, and only then.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from local.layer_digest import layer_digest, recorded, write

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


def published_versions(*digests: str) -> list[list[str]]:
    result = subprocess.run(
        [str(SAM_PYTHON), "-c", TRANSFORM, str(ROOT / "template.yaml"), *digests],
        capture_output=True,
        text=True,
        check=True,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    versions: list[list[str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return versions


def test_the_template_carries_the_layers_digest() -> None:
    assert recorded() == layer_digest()


def test_a_new_layer_digest_publishes_every_function_again_and_the_same_one_none() -> None:
    first, again, changed = published_versions("aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb")
    functions = len(first)
    assert functions >= 17
    assert first == again
    assert not set(first) & set(changed)


def test_the_digest_follows_any_change_to_the_layer_and_is_written_into_the_template(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "layers", tmp_path / "layers", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "template.yaml", tmp_path / "template.yaml")
    before = layer_digest(tmp_path)
    assert before == recorded(tmp_path)
    with (tmp_path / "layers" / "shared" / "seawall" / "errors.py").open("a") as module:
        module.write("\n")
    assert layer_digest(tmp_path) != before
    assert write(tmp_path) == recorded(tmp_path) != before
