"""`make deploy` and `make deploy-guided` as written: the commands they run and the settings they deploy with.

Deploying needs AWS; what can be checked here is the command line (built with Lambda's Python, deployed with
one environment's settings), the refusal to write a guided deploy's answers over `default`, and that every
environment's parameters are the template's, with values it allows.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib

import pytest

from local.digests import templates
from local.state import ROOT
from local.template import load_template
from tests.support.make_run import as_a_person_runs_make

CONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())
ENVIRONMENTS = sorted(CONFIG.keys() - {"version"})


MAKE = shutil.which("make") or "make"


def make(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``make`` as a person runs it: not a sub-make of the suite's own (its job server and flags left out)."""
    environment = as_a_person_runs_make()
    return subprocess.run(
        [MAKE, "--no-print-directory", *arguments],
        check=False,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


def commands(*arguments: str) -> list[str]:
    """What ``make -n`` would run, the SAM commands only (prerequisites are the SAM CLI's virtualenv)."""
    shown = make("-n", *arguments)
    assert shown.returncode == 0, shown.stderr
    return [line for line in shown.stdout.splitlines() if "/sam " in line]


@pytest.mark.parametrize("environment", ["default", "dev", "prod"])
def test_make_deploy_builds_with_lambdas_python_then_deploys_the_environment(environment: str) -> None:
    assert commands("deploy", f"ENV={environment}") == [
        "PYENV_VERSION=3.13.0 .tools/sam/bin/sam build",
        f".tools/sam/bin/sam deploy --config-env {environment}",
    ]


def test_a_guided_deploy_writes_a_new_environment_never_default() -> None:
    refused = make("deploy-guided")
    assert refused.returncode == 2
    assert "make deploy-guided ENV=staging" in refused.stderr
    assert commands("deploy-guided", "ENV=staging")[-1] == ".tools/sam/bin/sam deploy --guided --config-env staging"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_environment_deploys_a_stack_of_its_own_with_the_templates_parameters(environment: str) -> None:
    parameters = load_template(ROOT / "template.yaml")["Parameters"]
    # A provider's settings are checked where they are used: the provider's template, which the root passes them to.
    checked = {
        **parameters,
        **{
            name: spec
            for path in templates()[1:]
            for name, spec in load_template(path)["Parameters"].items()
            if name in parameters
        },
    }
    deploy = CONFIG[environment]["deploy"]["parameters"]
    overrides = dict(pair.split("=", 1) for pair in deploy["parameter_overrides"].split())
    for name, value in overrides.items():
        assert name in parameters, f"{environment}: {name} is no parameter of template.yaml"
        allowed = checked[name].get("AllowedValues")
        assert allowed is None or value in allowed, f"{environment}: {name}={value} is not one of {allowed}"
    # The roles the templates make, and the nested applications (each provider's stack), nothing more.
    assert deploy["capabilities"] == "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"
    stacks = [CONFIG[name]["global"]["parameters"]["stack_name"] for name in ENVIRONMENTS]
    assert len(set(stacks)) == len(stacks)
