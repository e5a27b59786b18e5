"""The README is one page whose every command works, as written, and whose links (and the docs') resolve.

Each line of the README's ```sh blocks runs against `make run` (the ops tests' stack), in a shell, from
the repository's root, or is one of ``NOT_RUN_HERE``, each with the reason and where it is tested instead.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.ops.conftest import ROOT, Stack
from tests.support.make_run import as_a_person_runs_make

README = ROOT / "README.md"
MAX_BYTES = 10 * 1024
_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# Each README line not run here: why, and where it is tested instead.
NOT_RUN_HERE = {
    "make run": "the stack these tests run against (tests/support/make_run.py starts it as `make run` does)",
    "make test": "what CI runs: this test is part of it",
    "make deploy": "needs an AWS account (tests/unit/test_deploy.py checks its command line)",
    "make deploy ENV=prod": "needs an AWS account (tests/unit/test_deploy.py)",
    "make deploy-guided ENV=staging": "needs an AWS account and a person (tests/unit/test_deploy.py)",
    'make provider NAME=globex AUTH=bearer WEBHOOKS=standard ACTIONS="GET /widgets/{widget_id}, POST /widgets"': (
        "writes into the tree: tests/scaffold runs it in a copy of the repository"
    ),
    'make provider-action NAME=globex ACTION="DELETE /widgets/{widget_id}"': (
        "writes into the tree: tests/scaffold runs it in a copy of the repository"
    ),
    "make provider-remove NAME=globex": "tests/scaffold runs it in a copy of the repository",
}
BASH = shutil.which("bash") or "bash"


def commands() -> list[str]:
    """Every command line of the README's ```sh blocks, comments after `` #`` left out."""
    return [
        line.split(" #", 1)[0].strip()
        for block in _BLOCK.findall(README.read_text())
        for line in block.splitlines()
        if line.strip()
    ]


def test_the_readme_is_one_page() -> None:
    assert len(README.read_bytes()) <= MAX_BYTES


def test_every_link_of_the_readme_and_the_docs_resolves() -> None:
    pages = [README, *sorted((ROOT / "docs").rglob("*.md"))]
    broken = [
        f"{page.relative_to(ROOT)}: {target}"
        for page in pages
        for target in _LINK.findall(page.read_text())
        if not target.startswith(("http://", "https://", "mailto:")) and not (page.parent / target).exists()
    ]
    assert broken == []


def test_every_line_not_run_here_is_still_in_the_readme() -> None:
    assert set(NOT_RUN_HERE) <= set(commands())  # a reason for a command the README no longer shows is stale


@pytest.mark.parametrize("line", [line for line in commands() if line not in NOT_RUN_HERE])
def test_each_readme_command_runs_as_written(stack: Stack, line: str) -> None:
    ran = subprocess.run(
        [BASH, "-c", line],
        cwd=ROOT,
        env={**as_a_person_runs_make(), "LOCAL_STATE_DIR": str(stack.state_dir)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, f"{line} -> {ran.returncode}\n{ran.stdout[-2000:]}\n{ran.stderr[-2000:]}"
    assert "Traceback" not in ran.stderr
