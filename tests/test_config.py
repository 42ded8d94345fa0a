"""Questions and the model catalog: the bundled files load; bad ones fail naming file, field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from litsynth.config import ConfigError, Settings, load_catalog, load_question, load_questions

from .conftest import REPO_ROOT


def test_bundled_questions_are_the_seed_report_questions(seed_file):
    questions = {q.id: q for q in load_questions(REPO_ROOT / "questions")}
    assert set(questions) == {"one-to-many-defense-clip", "alignment-vs-contrastive-pretraining"}
    seed_000 = " ".join(seed_file("000").read_text(encoding="utf-8").split())
    seed_004 = " ".join(seed_file("004").read_text(encoding="utf-8").split())
    assert questions["one-to-many-defense-clip"].question in seed_000
    assert questions["alignment-vs-contrastive-pretraining"].question in seed_004
    assert questions["one-to-many-defense-clip"].benchmarks == ("coco-captions",)  # its leaderboard shows COCO captions


def test_bundled_catalog_defines_the_model_partitions():
    catalog = Settings(project_root=REPO_ROOT).catalog()
    assert catalog.ids == ["minilm-l6", "mpnet-base", "bm25", "hybrid", "clip-vit-b-32"]
    assert catalog.get("minilm-l6").dim == 384
    assert catalog.get("hybrid").components == ("bm25", "minilm-l6", "mpnet-base")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: Bad Id\nquestion: What is dense retrieval good for?\n", "field 'id'"),
        ("id: ok\n", "field 'question'"),
        ("id: ok\nquestion: What is dense retrieval good for?\ncolour: red\n", "field 'colour'"),
        ("- just\n- a list\n", "expected a mapping"),
        ("id: [unclosed\n", "not valid UTF-8 YAML"),
        ("id: ok\nquestion: What is dense retrieval good for?\nbenchmarks: [coco]\n", "field 'benchmarks.0'"),
    ],
)
def test_malformed_question_names_file_and_field(tmp_path: Path, text: str, message: str):
    path = tmp_path / "q.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_question(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_duplicate_question_ids_are_refused(tmp_path: Path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("id: same\nquestion: What is dense retrieval good for?\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="b.yaml: field 'id': 'same' is already used"):
        load_questions(tmp_path)


def test_missing_questions_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="questions folder not found"):
        load_questions(tmp_path / "nowhere")


def test_catalog_errors_name_the_problem(tmp_path: Path):
    path = tmp_path / "models.yaml"
    path.write_text(
        "selection_model: ghost\nmodels:\n  - id: st\n    family: sentence-transformers\n    hub: x\n    dim: 8\n    max_seq_length: 8\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="selection_model 'ghost' is not a model id"):
        load_catalog(path)
    path.write_text("selection_model: st\nmodels:\n  - id: st\n    family: sentence-transformers\n    hub: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="needs field"):
        load_catalog(path)
    catalog = load_catalog(REPO_ROOT / "models.yaml")
    with pytest.raises(ConfigError, match="unknown model id 'nope'"):
        catalog.get("nope")


def test_every_setting_is_in_the_readme_configuration_reference():
    """The README's configuration table holds every setting of litsynth.config.Settings (the
    project resource's only source of settings) as `litsynth settings --reference` prints it."""
    from litsynth.config import reference_table

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Configuration") :]
    section = section[: section.index("\n## ", 1)]
    missing = [row for row in reference_table().splitlines() if row not in section]
    assert not missing, "README.md, section Configuration: paste `litsynth settings --reference`; missing rows:\n" + "\n".join(missing)


def test_settings_come_from_the_project_file_then_the_overrides(tmp_path):
    from assets.resources import Project

    (tmp_path / "litsynth.yaml").write_text("selection: {max_selected: 5}\nwarehouse: {path: lake.duckdb}\n", encoding="utf-8")
    settings = Project(project_root=str(tmp_path), overrides={"selection": {"rrf_k": 10}}).settings()
    assert (settings.selection.max_selected, settings.selection.rrf_k, settings.warehouse_path) == (5, 10, tmp_path / "lake.duckdb")
    (tmp_path / "litsynth.yaml").write_text("selection: {max_selectd: 5}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"litsynth.yaml.*selection.max_selectd"):
        Settings.load(tmp_path)


def test_litsynth_settings_prints_the_effective_settings(tmp_path, capsys):
    import yaml

    from orchestration import cli

    (tmp_path / "litsynth.yaml").write_text("arxiv: {enabled: false}\n", encoding="utf-8")
    assert cli.main(["--project", str(tmp_path), "settings"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["arxiv"]["enabled"] is False and shown["project_root"] == str(tmp_path.resolve())
    assert shown["verifier"]["backbone"] == "minilm-l6"
    (tmp_path / "litsynth.yaml").write_text("arxiv: {enabled: maybe}\n", encoding="utf-8")
    assert cli.main(["--project", str(tmp_path), "settings"]) == 2
    assert "arxiv.enabled" in capsys.readouterr().err
