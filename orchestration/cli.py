"""The ``litsynth`` command: the main job, benchmarks, verifier training, the UI, evaluations.

``litsynth run`` materialises the question pipeline for every bundled question into the
warehouse, in the same Dagster instance the UI shows (``var/dagster_home``), then prints what it
produced and how long each stage took. Benchmarks and verifier training are their own commands.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
import logging
import os
import signal
import sys
from pathlib import Path

import yaml

from litsynth.config import ConfigError, Settings, project_root, reference_table

DAGSTER_YAML = """# written by litsynth: litsynth's own log lines (progress of long loops) go to the run log
telemetry:
  enabled: false
python_logs:
  managed_python_loggers:
    - litsynth
  python_log_level: INFO
"""


def dagster_home(settings: Settings) -> Path:
    home = settings.path("var/dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8") != DAGSTER_YAML:
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return home


@contextmanager
def _location_project(folder: Path) -> Iterator[None]:
    from assets.resources import PROJECT_ENV

    previous = os.environ.get(PROJECT_ENV)
    os.environ[PROJECT_ENV] = str(folder)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(PROJECT_ENV, None)
        else:
            os.environ[PROJECT_ENV] = previous


def execute(settings: Settings, steps_for, *, arxiv: bool = False, summary: bool = True, force: bool = True) -> int:
    """Run a plan (``steps_for(settings)`` -> steps) in the project's Dagster instance; unless
    ``force``, steps whose fingerprint is unchanged since they last succeeded are skipped."""
    from dagster import DagsterInstance

    from assets.resources import Project

    with _location_project(settings.project_root):  # its catalog gives the model partitions when they first load
        from orchestration.definitions import build_definitions
    from orchestration.run_plan import PlanSummary, RunEverything, StepLedger, echo_stderr, execute_plan

    steps = steps_for(settings)  # reads questions and catalog: a bad file fails before any run
    instance = DagsterInstance.from_config(str(dagster_home(settings)))
    project = Project(project_root=str(settings.project_root), overrides={} if arxiv else {"arxiv": {"enabled": False}})
    defs = build_definitions(project)
    settings = project.settings()
    verifier = settings.verifier
    ledger = RunEverything() if force else StepLedger(
        settings, package_root=project_root(), verifier_dirs=[settings.path(verifier.model_dir), settings.shipped_verifier_dir]
    )
    outcomes = execute_plan(defs, instance, steps, ledger=ledger, echo=echo_stderr)
    result = PlanSummary.of(outcomes)
    if summary:
        print_summary(settings)
    print("\n".join(result.lines()))
    if result.interrupted:
        print("litsynth: stopped by a signal; finished partitions are kept, run the command again to finish", file=sys.stderr)
    elif result.failed:
        print(f"litsynth: {len(result.failed)} steps did not succeed; see the log above", file=sys.stderr)
    return result.exit_code()


def main_steps(settings: Settings):
    from orchestration.run_plan import main_plan

    return main_plan([q.id for q in settings.questions()], settings.catalog().ids)


def bench_steps(settings: Settings):
    from orchestration.run_plan import benchmark_plan

    questions = [q.id for q in settings.questions()]  # questions first, as `run` reads them
    return benchmark_plan(settings.catalog().ids, questions)


def verifier_steps(settings: Settings):
    from orchestration.run_plan import verifier_plan

    return verifier_plan()


def print_summary(settings: Settings) -> None:
    from litsynth.lake import connect_backend_read_only
    from litsynth.tables import question_summary
    from litsynth.warehouse import table_counts

    con = connect_backend_read_only(settings.warehouse, settings.project_root)
    try:
        counts = table_counts(con)
        per_question = question_summary(con)
    finally:
        con.close()
    where = settings.warehouse_path if settings.warehouse.backend == "duckdb" else f"DuckLake {settings.warehouse.catalog_dsn}"
    print("\nlitsynth: warehouse", where)
    width = max(map(len, counts))
    for table, count in counts.items():
        print(f"  {table:<{width}}  {count:>8,}")
    print("\nlitsynth: per question: papers ranked / selected, claims, supported, contradicted")
    for question_id, ranked, selected, claims, supported, contradicted in per_question:
        report = settings.path(settings.reports_dir) / question_id / "report.html"
        print(f"  {question_id}: {ranked} / {selected} papers, {claims} claims, {supported} supported, {contradicted} contradicted")
        print(f"    {report if report.exists() else 'no report yet'}")
    print("\nlitsynth: open the UI with  .venv/bin/litsynth ui   (http://127.0.0.1:3000)")
    if settings.warehouse.backend == "duckdb":
        print(f"litsynth: query in SQL with  duckdb -readonly {settings.warehouse_path}")


def open_ui(settings: Settings, *, host: str, port: int) -> int:
    """Start the Dagster UI and daemon on this project (localhost only unless told otherwise)."""
    from assets.resources import PROJECT_ENV

    env = {**os.environ, "DAGSTER_HOME": str(dagster_home(settings)), PROJECT_ENV: str(settings.project_root)}
    command = [str(Path(sys.executable).with_name("dagster")), "dev", "-w", str(settings.path("workspace.yaml")), "-h", host, "-p", str(port)]
    os.chdir(settings.project_root)
    os.execve(command[0], command, env)
    return 0


def _evaluation_modules():
    """`litsynth eval retrieval | image-text | verify`: each module adds its parser and handler."""
    from litsynth.evaluation import cli_image_text, cli_retrieval
    from litsynth.verify import cli_verify

    return (cli_retrieval, cli_image_text, cli_verify)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="litsynth", description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=project_root(), help="project folder (default: this checkout)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="the main job: corpus, then every question's pipeline and report")
    run.add_argument("--offline", action="store_true", help="do not try the arXiv API")
    run.add_argument("--force", action="store_true", help="run every step, also those up to date")
    commands.add_parser("bench", help="every catalog model on the public benchmarks (BEIR SciFact, COCO captions); reports then show them")
    verifier = commands.add_parser("verifier", help="the claim verifier")
    verifier_commands = verifier.add_subparsers(dest="verifier_command", required=True)
    verifier_commands.add_parser("train", help="(re)train the verifier from the configured SciFact-format data")
    shown = commands.add_parser("settings", help="print the project's effective settings (defaults, litsynth.yaml) as YAML")
    shown.add_argument("--reference", action="store_true", help="print the configuration reference table instead (README, Configuration)")
    ui = commands.add_parser("ui", help="start the Dagster UI and daemon")
    ui.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    ui.add_argument("--port", type=int, default=3000)
    evaluate = commands.add_parser("eval", help="score a model or verifier on a labelled data set, outside the pipeline")
    evaluations = evaluate.add_subparsers(dest="evaluation", required=True)
    for module in _evaluation_modules():
        module.add_parser(evaluations)
    return parser


def main(argv: list[str] | None = None) -> int:
    # A shell starts background jobs with SIGINT ignored, and Python keeps an ignored signal
    # ignored; put back the defaults so Ctrl-C and SIGTERM stop `litsynth` wherever it started.
    # A parent may also have blocked them, and the mask survives exec.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command in ("run", "bench", "verifier"):
        # inside a Dagster run the instance prints litsynth's lines (dagster.yaml python_logs); once is enough
        logging.getLogger("litsynth").propagate = False
    try:
        settings = Settings.load(args.project)
        if args.command == "run":
            return execute(settings, main_steps, arxiv=not args.offline, force=args.force)
        if args.command == "bench":
            return execute(settings, bench_steps)
        if args.command == "verifier":
            return execute(settings, verifier_steps, summary=False)
        if args.command == "eval":
            return args.handler(args, settings)
        if args.command == "settings":
            print(reference_table() if args.reference else yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False), end="\n")
            return 0
        return open_ui(settings, host=args.host, port=args.port)
    except ConfigError as exc:
        print(f"litsynth: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
