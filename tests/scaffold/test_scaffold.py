"""`make provider`: bad options change nothing; a generated provider passes every check, and goes away again.

Everything runs on a copy of the repository (the files a fresh clone has),
through ``python -m scaffold`` as `make provider` runs it; the generated
provider's own tests, the linters, mypy, sam validate and cfn-lint run there.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from local.digests import layer_digest, recorded, routes_digest, stale
from local.layers import layer_folders
from local.template import Template
from scaffold import template_yaml
from scaffold.spec import provider_spec

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / ".tools" / "sam" / "bin"
CACHES = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".local", ".hypothesis", ".aws-sam"}
PROVIDERS = {
    "acme": ["--auth", "signed", "--webhooks", "standard", "--actions",
             "GET /widgets/{widget_id}, POST /widgets, GET /widgets, PATCH /widgets/{widget_id}, "
             "DELETE /widgets/{widget_id}"],
    "beta_pay": ["--auth", "basic", "--webhooks", "hmac", "--actions",
                 "PUT /beta-accounts/{account_id}/limits/{limit_id}, POST /beta-accounts/{account_id}/refunds"],
    "gamma": ["--auth", "api-key", "--actions", "GET /gamma/reports, POST /gamma/reports/{report_id}"],
    # Named like the handler's own globals and a module the generated tests import: they must not collide.
    "app": ["--actions", "GET /deltas/{delta_id}"],
}  # fmt: skip


def copy_repository(into: Path) -> Path:
    """The files a fresh clone has (tracked, and new ones not ignored), copied to ``into``."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],  # noqa: S607 (git from PATH, as a developer runs it)
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        if (ROOT / relative).is_file():
            (into / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / relative, into / relative)
    return into


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` but caches, with its hash."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and not CACHES & set(path.relative_to(root).parts)
    }


def scaffold(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``python -m scaffold --root <root> ...``, as `make provider` runs it."""
    return subprocess.run(
        [sys.executable, "-m", "scaffold", "--root", str(root), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def check(root: Path, *command: str | Path, timeout: float = 600, **environment: str) -> None:
    """Run a check in the copy (with ``environment`` added); its output is the failure message."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, **environment},
    )
    assert result.returncode == 0, f"{' '.join(map(str, command))}:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repository(tmp_path_factory.mktemp("repository"))


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["add", "Acme", "--actions", "GET /widgets"], "NAME 'Acme'"),
        (["add", "1acme", "--actions", "GET /widgets"], "NAME '1acme'"),
        (["add", "acme-pay", "--actions", "GET /widgets"], "NAME 'acme-pay'"),
        (["add", "a" * 25, "--actions", "GET /widgets"], "at most 24 characters"),
        (["add", "class", "--actions", "GET /widgets"], "taken by Python or by the bundle"),
        (["add", "aws", "--actions", "GET /widgets"], "taken by Python or by the bundle"),
        (["add", "stripe", "--actions", "GET /stripe-things"], "NAME 'stripe': a provider of that name exists already"),
        (
            ["add", "hotel", "--actions", "GET /bookings/{booking_id}"],
            "the bundle has HotelBookingsGetFunction already",
        ),
        (["add", "provider", "--webhooks", "standard", "--actions", "GET /p"], "ProviderEventsFunction already"),
        (["add", "acme", "--auth", "oauth", "--actions", "GET /widgets"], "AUTH 'oauth'"),
        (["add", "acme", "--webhooks", "svix", "--actions", "GET /widgets"], "WEBHOOKS 'svix'"),
        (["add", "acme"], "ACTIONS: at least one"),
        (["add", "acme", "--actions", "FETCH /widgets"], "the method must be one of"),
        (["add", "acme", "--actions", "GET widgets"], "the path must look like"),
        (["add", "acme", "--actions", "GET /widgets/"], "the path must look like"),
        (["add", "acme", "--actions", "GET /Widgets"], "neither a lowercase word"),
        (["add", "acme", "--actions", "GET /{widget_id}"], "must start with a word"),
        (["add", "acme", "--actions", "POST /webhooks/acme"], "kept for the bundle's own routes"),
        (["add", "acme", "--actions", "PUT /widgets"], "acts on one object"),
        (["add", "acme", "--actions", "GET /a/{x}/{x}"], "a parameter name is used twice"),
        (["add", "acme", "--actions", "GET /widgets/{class}"], "{class} is a name the generated code uses"),
        (["add", "acme", "--actions", "POST /widgets/{body}"], "{body} is a name the generated code uses"),
        (["add", "acme", "--actions", "GET /widgets/{models}"], "{models} is a name the generated code uses"),
        (["add", "testing", "--actions", "GET /widgets"], "taken by Python or by the bundle"),
        (["add", "acme", "--actions", "GET /widgets, GET /widgets"], "clash"),
        (["add", "acme", "--actions", "GET /a/{id}, DELETE /a/{ref}"], "at the same place"),
        (["add", "acme", "--actions", "POST /customers"], "route POST /customers is already served"),
        (["add", "acme", "--actions", "DELETE /customers/{id}"], "{id} is called {customer_id}"),
        (["add", "acme", "--actions", "GET /customers/{customer_id}/notes"], "starts at /customers, which another"),
        (["remove", "acme"], "no provider of that name was generated"),
        (["action", "stripe", "--action", "GET /stripe-things"], "no provider of that name was generated"),
        (["remove", "stripe"], "no provider of that name was generated"),
    ],
)
def test_bad_options_are_refused_naming_the_option_and_change_nothing(
    repository: Path, arguments: list[str], says: str
) -> None:
    before = snapshot(repository)
    result = scaffold(repository, *arguments)
    assert result.returncode == 2, result.stdout + result.stderr
    assert says in result.stderr
    assert "Nothing was changed." in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(repository) == before


def test_an_unknown_option_is_refused(repository: Path) -> None:
    before = snapshot(repository)
    result = scaffold(repository, "add", "acme", "--auth-type", "bearer", "--actions", "GET /widgets")
    assert result.returncode == 2
    assert "unrecognized arguments: --auth-type" in result.stderr
    assert snapshot(repository) == before


def only_added(before: str, after: str) -> bool:
    """Whether ``after`` is ``before`` with lines inserted, none changed or removed."""
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    return all(tag in ("equal", "insert") for tag, *_ in matcher.get_opcodes())


def check_template_entries(root: Path, original: str) -> None:
    """template.yaml: the entries added (and named by the API's deployment), nothing else changed."""
    # template.yaml: the new entries appended, the digests recorded, every other byte kept.
    # A provider's layer is its own: the core layer's digest, in the root, stays.
    assert recorded(root) == layer_digest(root) == layer_digest(ROOT)
    changed = (root / "template.yaml").read_text()
    changed = re.sub(r"ApiDeployment[0-9a-f]{8}", "ApiDeployment" + routes_digest(ROOT), changed)
    assert only_added(original, changed.replace("Stripe, Acme, BetaPay, Gamma, App]", "Stripe]"))
    document = template_yaml.load(changed)
    added = template_yaml.logical_ids(document) - template_yaml.logical_ids(template_yaml.load(original))
    assert {"Acme", "AcmeApiBase", "AcmeSecretArn", "AcmeWebhookUrl", "BetaPay", "Gamma", "App"} <= added
    # Each provider is a unit: its resources are in its own template, none in the root's.
    bundle = Template(root / "template.yaml")
    assert {"AcmeSecret", "AcmeWidgetsGetFunction", "AcmeWebhookFunction", "BetaPayEventsQueue"} <= set(
        bundle.resources
    )
    assert {name for name, stack in bundle.stacks.items() if stack == "Acme"} >= {"AcmeSecret", "AcmeDashboard"}
    assert not {"AcmeSecret", "AcmeWidgetsGetFunction"} & set(document["Resources"])
    routes = {(route.method, route.path) for spec in bundle.functions() for route in spec.routes}
    assert {("GET", "/widgets/{widget_id}"), ("POST", "/webhooks/acme"), ("GET", "/deltas/{delta_id}")} <= routes
    for title in ("Acme", "BetaPay", "Gamma", "App"):
        template_yaml.stop_deploying_after(document, title)
    template_yaml.remove(document, added)
    assert template_yaml.dump(document) == original


def add_an_action_keeping_an_edit(root: Path) -> None:
    """`make provider-action`: the new action's files, the rest brought up to date; an edit kept, or a clash refused."""
    client = root / "layers/gamma/seawall/providers/gamma/client.py"
    header, rest = client.read_text().split("\n\n", 1)
    client.write_text(f"{header}\n\n# The real base URL is https://reports.gamma.example.\n{rest}")
    edited = client.read_text()
    clashing = client.read_text() + "# appended where the new action's method goes\n"
    client.write_text(clashing)
    before = snapshot(root)
    refused = scaffold(root, "action", "gamma", "--action", "DELETE /gamma/reports/{report_id}")
    assert refused.returncode == 2
    assert "client.py was edited where the update changes it" in refused.stderr
    assert snapshot(root) == before
    client.write_text(edited)
    result = scaffold(root, "action", "gamma", "--action", "DELETE /gamma/reports/{report_id}")
    assert result.returncode == 0, result.stderr
    text = client.read_text()
    assert "# The real base URL is https://reports.gamma.example." in text
    assert "def delete_gamma_report(" in text
    assert (root / "functions/gamma/gamma_reports_delete/app.py").exists()
    bundle = Template(root / "template.yaml")
    routes = {(route.method, route.path) for spec in bundle.functions() for route in spec.routes}
    assert ("DELETE", "/gamma/reports/{report_id}") in routes
    assert stale(root) == []


def test_a_generated_provider_passes_every_check_and_goes_away_again(tmp_path: Path) -> None:
    root = copy_repository(tmp_path)
    before = snapshot(root)
    original = (root / "template.yaml").read_text()
    for name, options in PROVIDERS.items():
        result = scaffold(root, "add", name, *options)
        assert result.returncode == 0, result.stderr
        assert f"Next: docs/providers/{name}.md" in result.stdout

    check_template_entries(root, original)
    add_an_action_keeping_an_edit(root)

    python = sys.executable
    new_handlers = sorted(
        str(path.relative_to(root)) for name in PROVIDERS for path in root.glob(f"functions/{name}/*/app.py")
    )
    check(root, python, "-m", "ruff", "check", ".")
    check(root, python, "-m", "ruff", "format", "--check", ".")
    # As `make typecheck` runs mypy: every layer's folder on its path, each provider's package named.
    layers = {"MYPYPATH": ":".join(str(folder) for folder in layer_folders(root))}
    providers = [f"seawall.providers.{path.name}" for path in root.glob("layers/*/seawall/providers/*")]
    packages = [argument for package in ["seawall", "local", "scaffold", *providers] for argument in ("-p", package)]
    check(root, python, "-m", "mypy", *packages, **layers)
    for handler in new_handlers:
        check(root, python, "-m", "mypy", "--strict", handler, **layers)
    check(root, SAM / "sam", "validate", "--lint")
    check(root, SAM / "cfn-lint", "template.yaml", *(f"functions/{name}/template.yaml" for name in PROVIDERS))
    generated_tests = sorted(
        str(path.relative_to(root))
        for name in PROVIDERS
        for path in [*root.glob(f"tests/*/test_{name}.py"), *root.glob(f"tests/providers/{name}/test_*.py")]
    )
    assert len(generated_tests) == 4 * 3 + 2  # client, functions and make run each; webhooks for two
    events = "tests/functions/test_events.py"
    selected = " or ".join(["every_function", *PROVIDERS])
    check(root, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *generated_tests, events, "-k", selected)
    # The bundle's own checks of the template still hold: alarms page, dead letters alarmed and on the dashboard.
    check(root, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/test_operations.py")

    # The way back: everything generated goes, template.yaml byte for byte as it was.
    (root / "layers/app/seawall/providers/app/models.py").write_text("# edited\n")
    unit = root / "functions/app/template.yaml"
    unit.write_text(
        unit.read_text().replace("  AppDeltasGetFunction:\n", "  AppDeltasGetFunction:\n    DeletionPolicy: Retain\n")
    )
    edited = (root / "template.yaml").read_text().replace("  App:\n", "  App:\n    DeletionPolicy: Retain\n")
    (root / "template.yaml").write_text(edited)
    refused = scaffold(root, "remove", "app")
    assert refused.returncode == 2
    assert "edited since generated" in refused.stderr
    assert "layers/app/seawall/providers/app/models.py" in refused.stderr
    assert "functions/app/template.yaml" in refused.stderr
    assert "template.yaml's App" in refused.stderr
    assert (root / "template.yaml").read_text() == edited
    for name in PROVIDERS:
        # app and gamma were edited by hand (above): removal takes them only when forced.
        result = scaffold(root, "remove", name, *(["--force"] if name in ("app", "gamma") else []))
        assert result.returncode == 0, result.stderr
    assert (root / "template.yaml").read_text() == original
    assert snapshot(root) == before


def git(root: Path, *arguments: str) -> None:
    """A git command in the copy, as its developer would run it."""
    identity = ["-c", "user.name=dev", "-c", "user.email=dev@example.com"]
    subprocess.run(["git", *identity, *arguments], cwd=root, check=True, capture_output=True)  # noqa: S607


def test_a_template_change_reaches_a_generated_provider_and_keeps_its_edits(tmp_path: Path) -> None:
    root = copy_repository(tmp_path)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "the bundle")
    assert scaffold(root, "add", "gamma", "--auth", "api-key", "--actions", "GET /gamma/reports").returncode == 0
    git(root, "add", "-A")
    git(root, "commit", "-qm", "make provider NAME=gamma")
    client = root / "layers/gamma/seawall/providers/gamma/client.py"
    header, rest = client.read_text().split("\n\n", 1)
    client.write_text(f"{header}\n\n# The real base URL is https://reports.gamma.example.\n{rest}")
    template = root / "scaffold/templates/provider/layers/{{ name }}/seawall/providers/{{ name }}/errors.py.jinja"
    template.write_text(template.read_text() + "\n\n# A line the templates gained since.\n")
    git(root, "commit", "-qam", "the templates change")

    result = scaffold(root, "update", "gamma")
    assert result.returncode == 0, result.stderr
    errors = root / "layers/gamma/seawall/providers/gamma/errors.py"
    assert errors.read_text().endswith("# A line the templates gained since.\n")
    assert "# The real base URL is https://reports.gamma.example." in client.read_text()
    assert "layers/gamma/seawall/providers/gamma/errors.py" in result.stdout
    assert "client.py" not in result.stdout  # edited by hand, and unchanged by the templates: left alone
    # Brought up to date: the record names today's templates, so nothing is left to do.
    again = scaffold(root, "update", "gamma")
    assert again.returncode == 0, again.stderr
    assert "0 files written or merged" in again.stdout
    # The edit is still an edit: removal keeps it, unless forced.
    refused = scaffold(root, "remove", "gamma")
    assert refused.returncode == 2
    assert "layers/gamma/seawall/providers/gamma/client.py" in refused.stderr


def test_a_path_parameter_and_a_word_of_the_same_name_are_two_api_resources() -> None:
    spec = provider_spec("acme", "bearer", "none", ["GET /things/{id}", "GET /things/id"])
    resources = {resource["logical_id"]: resource["part"] for resource in spec.api_resources}
    assert resources == {"AcmeThingsResource": "things", "AcmeThingsByIdResource": "{id}", "AcmeThingsIdResource": "id"}
    assert [action.api_resource for action in spec.actions] == ["AcmeThingsByIdResource", "AcmeThingsIdResource"]
