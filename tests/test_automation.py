"""New questions and new papers flow through by themselves: sensors, then automation conditions.

This plays the daemon: it evaluates the sensors with build_sensor_context, applies their
requests, then evaluates the automation conditions and executes what they request, until
nothing more is requested.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import (
    DagsterInstance,
    SensorResult,
    build_sensor_context,
    evaluate_automation_conditions,
    materialize,
)

from litsynth.warehouse import connect_read_only
from orchestration.definitions import all_assets, asset_checks, build_definitions
from assets.resources import Project
from orchestration.sensors import new_papers, new_questions

from .conftest import REPO_ROOT, SEEDS_DIR

NEW_QUESTION = """id: image-text-retrieval-clip
question: How well do CLIP-style image-text models retrieve images for captions on MSCOCO?
keywords: [CLIP, image-text retrieval, MSCOCO]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with the real seed corpus, an empty inbox, and no question yet."""
    (tmp_path / "questions").mkdir()
    shutil.copytree(SEEDS_DIR, tmp_path / "corpus" / "examples")
    (tmp_path / "corpus" / "inbox").mkdir()
    shutil.copy(REPO_ROOT / "models.yaml", tmp_path / "models.yaml")
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "models").symlink_to(REPO_ROOT / "var" / "models")
    return tmp_path


def _sensor(sensor, instance, resources, cursor):
    with build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        result = sensor(context)
    return result


def _apply(result: SensorResult, instance: DagsterInstance, resources: dict) -> None:
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    for run in result.run_requests or []:
        outcome = materialize([*all_assets, *asset_checks], selection=run.asset_selection, resources=resources, instance=instance)
        assert outcome.success


def _run_automation(instance: DagsterInstance, resources: dict, defs, cursor) -> dict[str, set[str]]:
    """Evaluate automation conditions and run what they request, like the daemon does, until quiet.

    ``cursor`` is the daemon's state from an earlier tick: "newly missing" is relative to it.
    """
    keys = [key for asset in all_assets for key in asset.keys]
    materialised: dict[str, set[str]] = {}
    for _ in range(15):
        result = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
        cursor = result.cursor
        requested = [
            (key, partition)
            for key in keys
            for partition in result.get_requested_partitions(key)
        ]
        if not requested:
            return materialised
        for key, partition in sorted(requested, key=lambda kp: (kp[0].to_user_string(), str(kp[1]))):
            outcome = materialize(
                [*all_assets, *asset_checks], selection=[key], partition_key=partition, resources=resources, instance=instance
            )
            assert outcome.success, (key, partition)
            materialised.setdefault(key.to_user_string(), set()).add(str(partition))
    raise AssertionError("automation kept requesting runs")


def test_a_dropped_question_and_paper_flow_through_to_the_report(project: Path, tmp_path: Path):
    instance = DagsterInstance.ephemeral()
    resources = {
        "project": Project(project_root=str(project), overrides={
            "warehouse": {"path": str(tmp_path / "warehouse.duckdb")}, "arxiv": {"enabled": False}, "verifier": {"train": False},
        }),
    }
    defs = build_definitions(resources["project"])

    # The corpus as it stands, before anything is dropped.
    outcome = materialize([*all_assets, *asset_checks], selection=["questions", "documents", "papers", "prior_reports", "verifier_model"], resources=resources, instance=instance)
    assert outcome.success
    questions_cursor = _sensor(new_questions, instance, resources, None)  # no question file yet: a skip
    daemon_cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor  # the daemon's tick before the drop

    # An analyst drops a question YAML and a paper (an arXiv API record) into the watched folders.
    (project / "questions" / "clip.yaml").write_text(NEW_QUESTION, encoding="utf-8")
    (project / "corpus" / "inbox" / "clip-paper.json").write_text(
        '{"id": "2103.00020v1", "title": "Learning Transferable Visual Models From Natural Language Supervision", '
        '"authors": ["Alec Radford"], "categories": ["cs.CV"], "year": "2021", "abstract": "We train CLIP on 400 million '
        '(image, text) pairs collected from the internet. CLIP learns image representations from natural language supervision '
        'and transfers zero-shot to over 30 computer vision datasets. On MSCOCO image-text retrieval, zero-shot CLIP reaches '
        'a text-to-image Recall@1 of 37.8%, competitive with fine-tuned models."}',
        encoding="utf-8",
    )
    question_tick = _sensor(new_questions, instance, resources, getattr(questions_cursor, "cursor", None))
    assert isinstance(question_tick, SensorResult)
    assert [r.partition_keys for r in question_tick.dynamic_partitions_requests] == [["image-text-retrieval-clip"]]
    _apply(question_tick, instance, resources)
    paper_tick = _sensor(new_papers, instance, resources, None)
    assert isinstance(paper_tick, SensorResult) and paper_tick.run_requests
    _apply(paper_tick, instance, resources)

    # The same files never trigger twice.
    assert not isinstance(_sensor(new_papers, instance, resources, paper_tick.cursor), SensorResult)
    assert not isinstance(_sensor(new_questions, instance, resources, question_tick.cursor), SensorResult)

    materialised = _run_automation(instance, resources, defs, daemon_cursor)
    for asset in ("question_papers", "chunks", "claims", "report"):
        assert "image-text-retrieval-clip" in materialised[asset], (asset, materialised.get(asset))
    assert any(p.startswith("image-text-retrieval-clip") or p.endswith("image-text-retrieval-clip") for p in materialised["embeddings"])

    con = connect_read_only(tmp_path / "warehouse.duckdb")
    try:
        (selected,) = con.execute(
            """SELECT count(*) FROM question_papers qp JOIN papers p USING (paper_id)
               WHERE qp.question_id = 'image-text-retrieval-clip' AND qp.selected AND p.arxiv_id = '2103.00020'"""
        ).fetchone()
    finally:
        con.close()
    assert selected == 1
    report = (project / "var" / "reports" / "image-text-retrieval-clip" / "report.md").read_text(encoding="utf-8")
    assert "Learning Transferable Visual Models From Natural Language Supervision" in report
    assert "[arXiv:2103.00020](https://arxiv.org/abs/2103.00020)" in report
