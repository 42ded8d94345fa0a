"""Hostile input (issue 24): no entry stops the run, every read and parse is bounded, text
processing stays linear, YAML cannot amplify, and valid input is kept.

The inputs are generated (``scripts/fault_injection.py``'s ``hostile_cases``, the same ones the
fault-injection run reports on), never committed; each goes through the real reader, worker
and parsers.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from litsynth.claims import classify_claim, parse_quantities
from litsynth.config import ConfigError, ModelSpec, load_catalog, safe_yaml, scan_questions
from litsynth.corpus import discover_files, ingest_files
from litsynth.ingest import prior_report
from litsynth.ingest.listing import looks_like_listing
from litsynth.ingest.worker import ParseBudget, ParseWorker
from litsynth.models.text_encoder import ModelUnavailable, TextEncoder, resolve_weights
from litsynth.quality import validate_table
from litsynth.records import ParseError
from litsynth.safeio import UnreadableFile, printable, read_regular
from litsynth.text import chunk_text, split_sentences
from litsynth.warehouse import connect_read_only
from orchestration.definitions import all_assets
from assets.resources import Project

from .conftest import REPO_ROOT, SEEDS_DIR
from .test_reliability import fi

SEED_QUESTION = REPO_ROOT / "questions" / "one-to-many-defense-clip.yaml"


def _case_folder(tmp_path: Path, names: list[str]) -> dict:
    """Build the named cases (corpus and questions folders), list, swap, then ingest and scan."""
    cases = fi.hostile_cases(tmp_path)
    corpus, questions = tmp_path / "corpus", tmp_path / "questions"
    corpus.mkdir()
    questions.mkdir()
    (questions / "good.yaml").write_text(fi.GOOD_QUESTION, encoding="utf-8")
    for name in names:
        cases[name]["build"](corpus if cases[name]["kind"] == "corpus" else questions)
    files = discover_files([corpus])
    for name in names:
        if "swap" in cases[name]:
            cases[name]["swap"](corpus)
    tables = ingest_files(files, root=tmp_path, max_file_bytes=fi.HOSTILE_MAX_FILE_BYTES)
    return {"cases": cases, "documents": tables.documents, "papers": tables.papers, "question_files": scan_questions(questions)}


CORPUS_CASES = [
    "surrogate-record.jsonl", "path-over-PATH_MAX", "report-200k-digits", "listing-500k-newlines", "fifo-in-corpus",
    "swapped-for-symlink", "swapped-for-fifo", "swapped-for-dev-zero", "atom-cdata-doctype", "owner-password-pdf",
    "user-password-pdf", "jsonl-deep-line", "escape-sequence-name",
]
QUESTION_CASES = [
    "directory-named-yaml", "fifo-question", "dev-zero-question", "symlink-out-question", "empty-question",
    "duplicate-id-question", "alias-amplification", "alias-amplification-1.1MB", "nested-alias-bomb", "deep-nesting-question",
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Every corpus and questions case in one folder pair, ingested and scanned once."""
    started = time.monotonic()
    outcome = _case_folder(tmp_path_factory.mktemp("hostile"), CORPUS_CASES + QUESTION_CASES)
    outcome["seconds"] = time.monotonic() - started
    return outcome


@pytest.mark.parametrize("name", CORPUS_CASES)
def test_each_corpus_case_gets_its_row_and_reason(hostile, name):
    rows = list(hostile["documents"].iter_rows(named=True))
    assert any(fi._meets(hostile["cases"][name]["expect"], r["status"], r["reason"]) for r in rows), (name, [(r["path"][-40:], r["status"], r["reason"]) for r in rows])


@pytest.mark.parametrize("name", QUESTION_CASES)
def test_each_question_case_is_rejected_with_its_reason(hostile, name):
    rows = hostile["question_files"]
    assert any(fi._meets(hostile["cases"][name]["expect"], r.status, r.reason) for r in rows), (name, [(r.path.name, r.status, r.reason) for r in rows])


def test_the_good_entries_beside_the_cases_still_land(hostile):
    loaded = [r for r in hostile["question_files"] if r.status == "loaded"]
    assert [r.path.name for r in loaded] == ["good.yaml"] and loaded[0].question.id == "good-question"
    titles = set(hostile["papers"]["title"])
    assert {"A Good Record Beside A Bad One", "A Feed Quoting HTML", "Owner Locked Retrieval Paper", "After"} <= titles
    assert "Outside Paper Zeta" not in titles and "Bad \ud800 title" not in titles
    assert hostile["documents"].height == len(CORPUS_CASES)  # one row per entry, the long path included
    assert hostile["seconds"] < 120
    reasons = [r for r in hostile["documents"]["reason"].to_list() if r]
    assert all("\n" not in r and "Traceback" not in r for r in reasons)


def test_a_20mb_record_on_one_line_parses(tmp_path):
    outcome = _case_folder(tmp_path, ["jsonl-20MB-line"])
    (row,) = outcome["documents"].iter_rows(named=True)
    assert row["status"] == "ingested" and row["papers_found"] == 2, row


# --- bounded reads --------------------------------------------------------------------------------


def test_reads_are_checked_on_the_descriptor(tmp_path):
    (tmp_path / "file.txt").write_bytes(b"x" * 100)
    assert read_regular(tmp_path / "file.txt", max_bytes=100, limit_name="n") == b"x" * 100
    with pytest.raises(UnreadableFile, match="over the 99-byte limit. Fix: split it, or raise n"):
        read_regular(tmp_path / "file.txt", max_bytes=99, limit_name="n")
    os.mkfifo(tmp_path / "pipe")
    started = time.monotonic()
    with pytest.raises(UnreadableFile, match="a FIFO"):
        read_regular(tmp_path / "pipe", max_bytes=10, limit_name="n")  # opened non-blocking: no writer, no wait
    assert time.monotonic() - started < 1
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(UnreadableFile, match="symbolic link"):
        read_regular(tmp_path / "zero", max_bytes=10, limit_name="n")
    with pytest.raises(UnreadableFile, match="a character device"):
        read_regular(Path("/dev/zero"), max_bytes=10, limit_name="n")  # stat says size 0; the descriptor says device


def test_log_names_are_escaped():
    assert printable("a\x1b[2J\x1b]0;owned\x07b\u202e.txt") == "a\\x1b[2J\\x1b]0;owned\\x07b\\u202e.txt"
    assert printable("caf\u00e9 \u2014 ok.txt") == "caf\u00e9 \u2014 ok.txt"


# --- the parse budget ------------------------------------------------------------------------------


def test_a_decompression_bomb_is_stopped_by_the_text_cap():
    bomb = fi.shared_stream_bomb(pages=200, inflated_bytes=2_000_000)
    assert len(bomb) < 200_000
    with ParseWorker(ParseBudget(timeout_s=60, max_decompressed_bytes=5_000_000)) as worker:
        with pytest.raises(ParseError, match="PDF page contents inflate past 5,000,000 bytes by page 3"):
            worker.parse(bomb, name="bomb.pdf")
        assert worker.parse(fi.text_pdf(["A Title Line", "Body."], "After The Bomb"), name="ok.pdf").papers[0].title == "After The Bomb"


def test_a_parse_over_its_time_is_stopped_and_the_next_file_parses():
    bomb = fi.shared_stream_bomb(pages=50, inflated_bytes=20_000_000)
    with ParseWorker(ParseBudget(timeout_s=1.0, max_decompressed_bytes=10**9)) as worker:
        started = time.monotonic()
        with pytest.raises(ParseError, match="exceeded the parse budget: still parsing after 1 s. Fix: raise ingest.parse_timeout_s"):
            worker.parse(bomb, name="slow.pdf")
        assert time.monotonic() - started < 5
        assert worker.parse(b"Daily Papers\n\nA Paper\n\nIts abstract.\n", name="next.txt").papers[0].title == "A Paper"


def test_a_parse_over_its_memory_is_stopped():
    record = json.dumps({"id": "2501.00001", "title": "Big", "abstract": "word " * 4_000_000}).encode()
    with ParseWorker(ParseBudget(timeout_s=60, memory_bytes=30_000_000)) as worker:
        with pytest.raises(ParseError, match="exceeded the parse budget: .*30 MB"):
            worker.parse(record, name="big.jsonl")
        assert worker.parse(b'{"title": "Small"}', name="small.json").papers[0].title == "Small"


def test_the_budget_comes_from_the_settings(tmp_path):
    project = Project(project_root=str(tmp_path), overrides={
        "ingest": {"parse_timeout_s": 2.5, "parse_memory_bytes": 123_000_000, "max_decompressed_bytes": 7}, "max_question_bytes": 99,
    })
    settings = project.settings()
    assert settings.ingest.parse_budget == ParseBudget(2.5, 123_000_000, 7) and settings.max_question_bytes == 99


# --- linear text processing ------------------------------------------------------------------------

HOSTILE_UNITS = ["1", "\n", ".", " ", "(A). ", "(", ")", "$a", "1.", "we ", "[1 ", "from 1 to ", "• ", "Research question: ",
                 "improves by 5% on MRR@10 over BM25 and ", "Fig. 3 shows 12.5% gains (see [3]). ", "e.g. ", "(1) ", "1,000,", "the "]
TEXT_FUNCTIONS = {
    "split_sentences": split_sentences,
    "parse_quantities": parse_quantities,
    "classify_claim": classify_claim,
    "parse_report": lambda t: prior_report.parse_report("This report synthesises findings\nResearch question: x?\n" + t),
    "looks_like_listing": looks_like_listing,
    "chunk_text": lambda t: chunk_text(t, max_tokens=64, count_tokens=lambda s: len(s) // 4 + 1),
}


def _seconds(function, text: str) -> float:
    started = time.perf_counter()
    try:
        function(text)
    except (ParseError, ValueError):
        pass  # rejecting is fine; hanging is not
    return time.perf_counter() - started


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units=st.lists(st.sampled_from(HOSTILE_UNITS), min_size=1, max_size=3), name=st.sampled_from(sorted(TEXT_FUNCTIONS)))
def test_text_processing_time_grows_linearly(units, name):
    """Doubling the input four times (x16) may cost at most ~40x the time: quadratic code costs 256x.
    Plus an absolute bound scaled to the size, loose for a shared machine: 100 microseconds per
    character (the quadratic cases of issue 24 took seconds for 40 kB)."""
    unit = "".join(units)
    small = unit * max(20_000 // len(unit), 1)
    big = small * 16
    function = TEXT_FUNCTIONS[name]
    small_s = min(_seconds(function, small) for _ in range(2))
    big_s = _seconds(function, big)
    if big_s > 40 * max(small_s, 0.05):
        big_s = _seconds(function, big)  # once more: the machine is shared, a quadratic cost is not transient
    assert big_s <= 40 * max(small_s, 0.05), (name, unit, small_s, big_s)
    assert big_s <= 2 + 100e-6 * len(big), (name, unit, big_s)


@pytest.mark.parametrize("text", [pytest.param("1" * 200_000, id="200k-digits"), pytest.param("\n" * 500_000, id="500k-newlines"),
                                  pytest.param("(" * 300_000 + ")" * 300_000, id="deep-nesting"), pytest.param("a. " * 100_000 + "." * 200_000, id="dots")])
def test_issue_sized_inputs_finish_fast(text):
    for name, function in TEXT_FUNCTIONS.items():
        assert _seconds(function, text) < 2 + 100e-6 * len(text), name


# --- YAML ----------------------------------------------------------------------------------------


def test_yaml_limits_refuse_before_expanding():
    assert safe_yaml("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}  # ordinary aliases still work
    started = time.monotonic()
    with pytest.raises(ConfigError, match="field 'keywords': expands past"):
        safe_yaml("x: &x " + "y" * 100_000 + "\nkeywords: [" + ", ".join(["*x"] * 50) + "]\n")
    with pytest.raises(ConfigError, match="line 2: more than 1,000 aliases"):
        safe_yaml("x: &x y\nkeywords: [" + ", ".join(["*x"] * 100_000) + "]\n")
    with pytest.raises(ConfigError, match="line 1: nested deeper than 32 levels"):
        safe_yaml("a: " + "[" * 40 + "]" * 40)
    with pytest.raises(ConfigError, match="recursive"):
        safe_yaml("a: &a [*a]\n")
    assert time.monotonic() - started < 2


def test_the_catalog_gets_the_same_limits(tmp_path):
    (tmp_path / "models.yaml").write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcde", "bcdef")), encoding="utf-8")
    with pytest.raises(ConfigError, match="models.yaml: field 'd': expands past"):
        load_catalog(tmp_path / "models.yaml")


def _question_project(root: Path) -> Path:
    (root / "questions").mkdir(parents=True)
    shutil.copy(SEED_QUESTION, root / "questions")
    cases = fi.hostile_cases(root)
    for name in ("nested-alias-bomb", "directory-named-yaml", "fifo-question", "empty-question"):
        cases[name]["build"](root / "questions")
    return root


def test_the_dagster_questions_step_records_bad_files_and_loads_the_others(tmp_path):
    project = _question_project(tmp_path / "project")
    warehouse = tmp_path / "warehouse.duckdb"
    resources = {"project": Project(project_root=str(project), overrides={
        "warehouse": {"path": str(warehouse)}, "ingest": {"corpus_dirs": [str(SEEDS_DIR)]}, "arxiv": {"enabled": False},
    })}
    started = time.monotonic()
    result = materialize(list(all_assets), selection=["questions", "question_files"], resources=resources, instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success and time.monotonic() - started < 120
    con = connect_read_only(warehouse)
    try:
        files = {Path(f).name: (status, reason, qid) for f, status, reason, qid in con.execute("SELECT file, status, reason, question_id FROM question_files").fetchall()}
        questions = [r[0] for r in con.execute("SELECT question_id FROM questions").fetchall()]
        suite = validate_table(con, "question_files")
        accounting = con.execute("SELECT files, loaded, rejected, [f.file[-11:] for f in rejected_files] FROM question_file_accounting").fetchone()
    finally:
        con.close()
    assert questions == ["one-to-many-defense-clip"]
    assert files["one-to-many-defense-clip.yaml"] == ("loaded", None, "one-to-many-defense-clip")
    assert files["laughs.yaml"][0] == "rejected" and "expands past" in files["laughs.yaml"][1] and "Fix:" in files["laughs.yaml"][1]
    assert "a directory" in files["folder.yaml"][1] and "FIFO" in files["pipe.yaml"][1] and "the file is empty" in files["empty.yaml"][1]
    assert suite.passed and suite.rows == 5, suite.failures
    assert accounting == (5, 1, 4, ["/empty.yaml", "folder.yaml", "laughs.yaml", "s/pipe.yaml"])  # what the report's methodology prints


# --- catalog paths ---------------------------------------------------------------------------------


def _text_spec(local_path: str, **extra) -> ModelSpec:
    return ModelSpec(id="m", family="sentence-transformers", local_path=local_path, dim=8, max_seq_length=16, **extra)


@pytest.mark.parametrize("local_path", ["/etc", "../../..", "var/../../outside"])
def test_catalog_paths_outside_the_project_are_unavailable(tmp_path, local_path):
    with pytest.raises(ModelUnavailable, match="outside the project and the catalog's model_dirs"):
        resolve_weights(_text_spec(local_path), tmp_path)


def test_a_declared_model_folder_is_allowed(tmp_path):
    (tmp_path / "weights" / "m").mkdir(parents=True)
    project = tmp_path / "project"
    project.mkdir()
    assert resolve_weights(_text_spec(str(tmp_path / "weights" / "m"), model_dirs=(str(tmp_path / "weights"),)), project) == (str(tmp_path / "weights" / "m"), True)
    catalog = "model_dirs: [../weights]\nselection_model: m\nmodels:\n  - {id: m, family: sentence-transformers, local_path: ../weights/m, dim: 8, max_seq_length: 16}\n"
    (project / "models.yaml").write_text(catalog, encoding="utf-8")
    assert load_catalog(project / "models.yaml").get("m").model_dirs == ("../weights",)


def test_a_folder_that_is_not_a_model_is_unavailable_not_a_traceback(tmp_path):
    (tmp_path / "models" / "not-a-model").mkdir(parents=True)
    (tmp_path / "models" / "not-a-model" / "README.txt").write_text("no weights here\n", encoding="utf-8")
    with pytest.raises(ModelUnavailable, match="model 'm': could not load"):
        TextEncoder(_text_spec("models/not-a-model"), tmp_path)
