"""End to end: the Dagster UI of this code location, as a user sees it in a real browser.

Starts ``dagster-webserver`` on ``workspace.yaml`` with a throwaway DAGSTER_HOME, registers the
question partitions (what the questions sensor does in a deployment), and drives headless
Debian chromium through Playwright: the asset catalog lists every asset of the code location,
the multi-partitioned ``embeddings`` asset shows its ``question`` and ``model`` dimensions with
the catalog's model ids, and each asset's Checks tab shows its checks. Screenshots go to
``var/test-artifacts/ui/`` (git-ignored); the path is printed.

The webserver only reads the code location; the warehouse (var/warehouse.duckdb) is not opened.
Needs /usr/bin/chromium (Debian package, installed by scripts/bootstrap.sh) and pip playwright
(requirements.lock); skipped with the reason when either is missing. Deselect with ``-m "not ui"``.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "var" / "test-artifacts" / "ui"
LOCATION = "litsynth"
REPOSITORY = "__repository__"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_S = 120.0
UI_TIMEOUT_MS = 30_000

pytestmark = pytest.mark.ui


def _require_browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian chromium (scripts/bootstrap.sh does, as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"playwright is not installed ({exc}); pip install -r requirements.lock")
    return sync_playwright


# ----------------------------------------------------------------------------- the webserver


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _default_signals() -> None:
    # A launcher that ignores SIGINT/SIGTERM (a background shell job) passes that on to the
    # webserver, which then outlives every polite stop. Reset them before exec.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Webserver:
    def __init__(self, port: int, log: Path):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
        assert not answer.get("errors"), answer["errors"]
        return answer["data"]

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _wait_until_ready(server: Webserver, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    status = "not started"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster-webserver exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/server_info", timeout=5) as response:
                json.load(response)
            entries = server.graphql("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                                     "locationOrLoadError { __typename ... on PythonError { message } } } } } }")
            (entry,) = [e for e in entries["workspaceOrError"]["locationEntries"] if e["name"] == LOCATION]
            status = entry["loadStatus"]
            if status == "LOADED":
                located = entry["locationOrLoadError"]
                assert located["__typename"] == "RepositoryLocation", f"code location failed to load: {located}"
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(1.0)
    pytest.fail(f"dagster-webserver not ready after {START_TIMEOUT_S:.0f}s (location: {status}):\n{server.log_tail()}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the webserver's process group (it and its code server), then SIGKILL what is left."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure no child (the code server) outlives it.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        break


@pytest.fixture(scope="module")
def webserver(tmp_path_factory) -> Iterator[Webserver]:
    _require_browser()
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = Webserver(_free_port(), ARTIFACTS / "webserver.log")
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    executable = Path(sys.executable).parent / "dagster-webserver"
    command = [str(executable), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(server.port)]
    with open(server.log, "wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_default_signals, start_new_session=True,
        )
    try:
        _expected()  # import the definitions here while the webserver boots
        _wait_until_ready(server, process)
        server.graphql("mutation { setNuxSeen }")  # the first-run modal would cover the page
        assert server.graphql("{ shouldShowNux }")["shouldShowNux"] is False
        yield server
    finally:
        _stop(process)


# ----------------------------------------------------------------------------- expectations


@functools.cache
def _expected() -> dict:
    """What the code location defines, from the definitions and config themselves."""
    from litsynth.config import Settings, project_root
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    checks: dict[str, list[str]] = {}
    for check_key in graph.asset_check_keys:
        checks.setdefault(check_key.asset_key.to_user_string(), []).append(check_key.name)
    settings = Settings(project_root=project_root())
    return {
        "assets": sorted(key.to_user_string() for key in graph.get_all_asset_keys()),
        "groups": sorted({graph.get(key).group_name for key in graph.get_all_asset_keys()}),
        "checks": {asset: sorted(names) for asset, names in sorted(checks.items())},
        "models": settings.catalog().ids,
        "questions": [question.id for question in settings.questions()],
    }


@pytest.fixture(scope="module")
def expected(webserver) -> dict:
    return _expected()


def _register_questions(server: Webserver, questions: list[str]) -> None:
    """Add the question partitions, as the questions sensor does when it sees questions/*.yaml."""
    for question in questions:
        result = server.graphql(
            "mutation($repo: RepositorySelector!, $key: String!) { addDynamicPartition("
            "repositorySelector: $repo, partitionsDefName: \"question\", partitionKey: $key) "
            "{ __typename ... on PythonError { message } } }",
            {"repo": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}, "key": question},
        )["addDynamicPartition"]
        assert result["__typename"] == "AddDynamicPartitionSuccess", result


ASSET_NODES = """{ assetNodes { assetKey { path } groupName
  partitionKeysByDimension { name partitionKeys }
  assetChecksOrError { __typename ... on AssetChecks { checks { name } } } } }"""


def _assert_shows(page, expect, value: str) -> None:
    """The page shows ``value`` to the user: as visible text, or middle-truncated to fit its column.

    Dagster's MiddleTruncate renders a visible ``<span>`` (``prior_claim_m…_expectations``) next to
    a hidden copy of the full text, and puts the full text in the container's title.
    """
    shown = page.get_by_text(value, exact=True).filter(visible=True).or_(
        page.get_by_title(value, exact=True).filter(visible=True)
    ).first
    expect(shown).to_be_visible(timeout=UI_TIMEOUT_MS)
    rendered = shown.evaluate(
        "(el, value) => (el.title === value && el.firstElementChild ? el.firstElementChild : el).innerText.trim()",
        value,
    )
    if rendered != value:
        head, ellipsis, tail = rendered.partition("\u2026")
        assert ellipsis and head and value.startswith(head) and value.endswith(tail), (
            f"{value!r} is rendered as {rendered!r}"
        )


# ----------------------------------------------------------------------------- the test


def test_dagster_ui_shows_assets_partitions_and_checks(webserver: Webserver, expected: dict) -> None:
    sync_playwright = _require_browser()
    from playwright.sync_api import expect

    assert expected["questions"], "no research questions under questions/"
    _register_questions(webserver, expected["questions"])

    # The GraphQL API the UI reads agrees with the definitions.
    nodes = {"/".join(n["assetKey"]["path"]): n for n in webserver.graphql(ASSET_NODES)["assetNodes"]}
    assert sorted(nodes) == expected["assets"]
    dimensions = {d["name"]: d["partitionKeys"] for d in nodes["embeddings"]["partitionKeysByDimension"]}
    assert set(dimensions) == {"question", "model"}
    assert dimensions["model"] == expected["models"]
    assert sorted(dimensions["question"]) == sorted(expected["questions"])
    served_checks = {
        key: sorted(c["name"] for c in n["assetChecksOrError"].get("checks", []))
        for key, n in nodes.items()
        if n["assetChecksOrError"].get("checks")
    }
    assert served_checks == expected["checks"]
    assert "claims_expectations" in expected["checks"]["claims"]

    print(f"\nUI screenshots: {ARTIFACTS}")
    started = time.monotonic()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            # Tall enough that the catalog renders every row of its (virtualised) list.
            page = browser.new_page(viewport={"width": 1600, "height": max(1000, 300 + 80 * len(expected["assets"]))})
            page.set_default_timeout(UI_TIMEOUT_MS)

            def visit(path: str, shot: str, check) -> None:
                t0 = time.monotonic()
                page.goto(f"{webserver.url}{path}")
                try:
                    check()
                finally:
                    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"))
                    print(f"  {path}: {time.monotonic() - t0:.1f}s -> {shot}.png")

            def text(value: str) -> None:
                expect(page.get_by_text(value, exact=True).filter(visible=True).first).to_be_visible(timeout=UI_TIMEOUT_MS)

            def catalog() -> None:
                for asset in expected["assets"]:
                    _assert_shows(page, expect, asset)
                expect(page.get_by_role("dialog")).to_have_count(0)  # no first-run modal over the page

            def lineage() -> None:
                for group in expected["groups"]:
                    _assert_shows(page, expect, group)

            def embeddings_partitions() -> None:
                # One column per dimension, each with its filter box, then the keys of each.
                expect(page.get_by_placeholder("Filter by question")).to_be_visible(timeout=UI_TIMEOUT_MS)
                expect(page.get_by_placeholder("Filter by model")).to_be_visible(timeout=UI_TIMEOUT_MS)
                text(f"{len(expected['models']) * len(expected['questions'])} Partitions Selected")
                for key in [*expected["models"], *expected["questions"]]:
                    _assert_shows(page, expect, key)

            def question_partitions() -> None:
                text(f"{len(expected['questions'])} Partitions Selected")
                for key in expected["questions"]:
                    _assert_shows(page, expect, key)

            def checks_of(asset: str):
                def check() -> None:
                    text(f"Checks ({len(expected['checks'][asset])})")
                    for name in expected["checks"][asset]:
                        _assert_shows(page, expect, name)

                return check

            visit("/assets", "01-asset-catalog", catalog)
            visit("/asset-groups", "02-asset-lineage", lineage)
            visit("/assets/embeddings?view=partitions", "03-embeddings-partitions", embeddings_partitions)
            visit("/assets/question_papers?view=partitions", "04-question-papers-partitions", question_partitions)
            for asset in expected["checks"]:
                visit(f"/assets/{asset}?view=checks", f"05-checks-{asset}", checks_of(asset))
        finally:
            browser.close()
    print(f"UI: {len(expected['assets'])} assets, {sum(map(len, expected['checks'].values()))} checks, "
          f"{len(expected['models'])} models x {len(expected['questions'])} questions in {time.monotonic() - started:.1f}s")
