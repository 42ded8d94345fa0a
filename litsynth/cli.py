"""The ``litsynth`` command: run the main job, open the UI, evaluate.

``litsynth run`` materialises every asset for every bundled question into the warehouse, in
the same Dagster instance the UI shows (``var/dagster_home``), then prints what it produced.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from litsynth.config import ConfigError, Settings, project_root

DAGSTER_YAML = """telemetry:
  enabled: false
"""
RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def dagster_home(settings: Settings) -> Path:
    home = settings.path("var/dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return home


def run_main_job(settings: Settings, *, arxiv: bool, benchmarks: bool = True) -> int:
    """Materialise the corpus, the public benchmarks per catalog model (unless ``benchmarks``
    is off: they are the long part of a first run), then every question partition; returns a
    process exit code."""
    from dagster import DagsterInstance, MultiPartitionKey

    from orchestration.definitions import build_definitions
    from orchestration.resources import Project, Warehouse

    questions = settings.questions()  # fail before any run if a question file is bad
    settings.catalog()
    instance = DagsterInstance.from_config(str(dagster_home(settings)))
    defs = build_definitions(
        Project(project_root=str(settings.project_root), arxiv_enabled=arxiv),
        Warehouse(path=str(settings.warehouse_path)),
    )
    result = defs.resolve_job_def("corpus_job").execute_in_process(instance=instance, run_config=RUN_CONFIG, raise_on_error=False)
    if not result.success:
        print("litsynth: the corpus job failed; see the log above", file=sys.stderr)
        return 1
    failed = []
    model_ids = settings.catalog().ids
    for model_id in model_ids if benchmarks else ():
        print(f"litsynth: benchmarks for {model_id}")
        result = defs.resolve_job_def("benchmark_job").execute_in_process(
            instance=instance, partition_key=model_id, run_config=RUN_CONFIG, raise_on_error=False
        )
        if not result.success:
            failed.append(f"benchmarks|{model_id}")
    for question in questions:
        print(f"litsynth: question {question.id}")
        result = defs.resolve_job_def("question_job").execute_in_process(
            instance=instance, partition_key=question.id, run_config=RUN_CONFIG, raise_on_error=False
        )
        if not result.success:
            failed.append(question.id)
            continue
        for model_id in model_ids:
            key = MultiPartitionKey({"question": question.id, "model": model_id})
            result = defs.resolve_job_def("question_model_job").execute_in_process(
                instance=instance, partition_key=key, run_config=RUN_CONFIG, raise_on_error=False
            )
            if not result.success:
                failed.append(f"{question.id}|{model_id}")
        result = defs.resolve_job_def("report_job").execute_in_process(
            instance=instance, partition_key=question.id, run_config=RUN_CONFIG, raise_on_error=False
        )
        if not result.success:
            failed.append(f"{question.id} report")
    print_summary(settings)
    if failed:
        print(f"litsynth: runs failed for {failed}; see the log above", file=sys.stderr)
        return 1
    return 0


def print_summary(settings: Settings) -> None:
    from litsynth.warehouse import open_warehouse, table_counts

    with open_warehouse(settings.warehouse_path) as con:
        counts = table_counts(con)
        per_question = con.execute(
            """
            SELECT q.question_id, count(qp.paper_id), count(qp.paper_id) FILTER (WHERE qp.selected)
            FROM questions q LEFT JOIN question_papers qp USING (question_id)
            GROUP BY q.question_id ORDER BY q.question_id
            """
        ).fetchall()
    print("\nlitsynth: warehouse", settings.warehouse_path)
    width = max(map(len, counts))
    for table, count in counts.items():
        print(f"  {table:<{width}}  {count:>8,}")
    print("\nlitsynth: per question (papers ranked / selected)")
    for question_id, ranked, selected in per_question:
        print(f"  {question_id}: {ranked} / {selected}")
    print(f"\nlitsynth: reports in {settings.path(settings.reports_dir)}")
    print("litsynth: open the UI with  .venv/bin/litsynth ui   (http://127.0.0.1:3000)")
    print(f"litsynth: query in SQL with  duckdb {settings.warehouse_path}   or python -c \"import duckdb; duckdb.connect('{settings.warehouse_path}')\"")


def open_ui(settings: Settings, *, host: str, port: int) -> int:
    """Start the Dagster UI and daemon on this project (localhost only unless told otherwise)."""
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home(settings))}
    command = [str(Path(sys.executable).with_name("dagster")), "dev", "-w", str(settings.path("workspace.yaml")), "-h", host, "-p", str(port)]
    os.chdir(settings.project_root)
    os.execve(command[0], command, env)
    return 0


def _evaluation_modules():
    """`litsynth eval retrieval | image-text | verify`: each module adds its parser and handler."""
    from litsynth.evaluation import cli_image_text, cli_retrieval
    from litsynth.verify import cli_verify

    return (cli_retrieval, cli_image_text, cli_verify)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="litsynth", description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=project_root(), help="project folder (default: this checkout)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="materialise every asset for every question into the warehouse")
    run.add_argument("--offline", action="store_true", help="do not try the arXiv API")
    run.add_argument(
        "--skip-benchmarks", action="store_true",
        help="leave out the public benchmarks (BEIR SciFact, COCO captions) per model; reports then omit their section",
    )
    ui = commands.add_parser("ui", help="start the Dagster UI and daemon")
    ui.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    ui.add_argument("--port", type=int, default=3000)
    evaluate = commands.add_parser("eval", help="score a model or verifier on a labelled data set, outside the pipeline")
    evaluations = evaluate.add_subparsers(dest="evaluation", required=True)
    for module in _evaluation_modules():
        module.add_parser(evaluations)
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings(project_root=args.project.resolve())
    try:
        if args.command == "run":
            return run_main_job(settings, arxiv=not args.offline, benchmarks=not args.skip_benchmarks)
        if args.command == "eval":
            return args.handler(args)
        return open_ui(settings, host=args.host, port=args.port)
    except ConfigError as exc:
        print(f"litsynth: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
