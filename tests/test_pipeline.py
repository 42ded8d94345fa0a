"""End to end through Dagster: materialise the corpus and a question partition on a temporary
warehouse, with the real seed corpus and bundled questions."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckKey, AssetKey, AssetSelection, DagsterInstance, MultiPartitionKey, materialize

from litsynth.warehouse import connect_read_only
from orchestration.definitions import all_assets, asset_checks
from assets.resources import Project

from .conftest import REPO_ROOT, SEEDS_DIR

QUESTION_000 = "one-to-many-defense-clip"
QUESTION_004 = "alignment-vs-contrastive-pretraining"
CORPUS_ASSETS = ["questions", "arxiv_harvest", "documents", "papers", "prior_reports", "verifier_model"]
QUESTION_ASSETS = [
    "question_papers", "chunks", "claims", "claim_entities", "question_concepts", "prior_claim_matches", "verifications", "claim_relations", "report",
]


def _resources(tmp_path: Path, corpus_dirs: list[str]) -> dict:
    return {
        "project": Project(
            project_root=str(REPO_ROOT),
            overrides={
                "warehouse": {"path": str(tmp_path / "warehouse.duckdb")},
                "ingest": {"corpus_dirs": corpus_dirs},
                "arxiv": {"enabled": False},
                # training is covered by tests/test_verify.py; here: the shipped verifier (models/verifier/)
                "verifier": {"train": False, "model_dir": str(tmp_path / "verifier")},
                "reports_dir": str(tmp_path / "reports"),
            },
        ),
    }


def _materialize(resources: dict, instance: DagsterInstance, selection: list[str], partition_key: str | None = None):
    result = materialize(
        [*all_assets, *asset_checks], selection=selection, resources=resources, instance=instance, partition_key=partition_key
    )
    assert result.success
    return result


def _rows(tmp_path: Path, sql: str) -> list[tuple]:
    con = connect_read_only(tmp_path / "warehouse.duckdb")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def seed_warehouse(tmp_path_factory):
    """The seed corpus and both bundled questions, materialised once for this module."""
    tmp_path = tmp_path_factory.mktemp("seed_warehouse")
    instance = DagsterInstance.ephemeral()
    resources = _resources(tmp_path, [str(SEEDS_DIR)])
    _materialize(resources, instance, CORPUS_ASSETS)
    checks = {}
    for question in (QUESTION_000, QUESTION_004):
        result = _materialize(resources, instance, QUESTION_ASSETS, question)
        checks[question] = {e.check_name: e for e in result.get_asset_check_evaluations()}
    return tmp_path, instance, resources, checks


def test_corpus_tables_hold_the_seed_corpus(seed_warehouse):
    tmp_path, *_ = seed_warehouse
    documents = _rows(tmp_path, "SELECT path, format, status FROM documents ORDER BY path")
    assert [Path(p).name[:3] for p, _, _ in documents] == ["000", "001", "002", "003", "004"]
    assert {p[:3]: f for p, f, _ in ((Path(p).name, f, s) for p, f, s in documents)} == {
        "000": "synthesis_report", "001": "paper_page", "002": "listing_page", "003": "listing_page", "004": "synthesis_report",
    }
    assert all(status == "ingested" for _, _, status in documents)
    (papers,) = _rows(tmp_path, "SELECT count(*) FROM papers")[0]
    (listed,) = _rows(tmp_path, "SELECT sum(papers_found) FROM documents")[0]
    assert 0 < papers <= listed  # duplicates across pages merged, nothing invented
    (dupes,) = _rows(tmp_path, "SELECT count(*) - count(DISTINCT dedup_key) FROM papers")[0]
    assert dupes == 0
    reports = _rows(tmp_path, "SELECT question_id, claims_stated, verified_stated, review_score FROM prior_reports ORDER BY question_id")
    assert reports == [(QUESTION_004, 6, 0, 3.8), (QUESTION_000, 10, 0, 4.2)]
    references = _rows(tmp_path, "SELECT arxiv_id FROM prior_report_references WHERE paper_id IS NOT NULL")
    assert references == [("2505.21439",)]  # the seed-001 page is the only referenced paper we hold


def test_question_000_selects_multimodal_papers_above_rerankers(seed_warehouse):
    tmp_path, *_ = seed_warehouse
    ranked = _rows(
        tmp_path,
        f"SELECT p.title, qp.rank, qp.selected FROM question_papers qp JOIN papers p USING (paper_id) WHERE question_id = '{QUESTION_000}' ORDER BY rank",
    )
    rank = {title: r for title, r, _ in ranked}
    selected = [title for title, _, s in ranked if s]
    clip_papers = [
        "Optimizing CLIP Models for Image Retrieval with Maintained Joint-Embedding Alignment",
        "F4-ITS: Fine-grained Feature Fusion for Food Image-Text Search",
        "INQUIRE: A Natural World Text-to-Image Retrieval Benchmark",
    ]
    text_rerankers = [
        "Rank-R1: Enhancing Reasoning in LLM-based Document Rerankers via Reinforcement Learning",
        "FIRST: Faster Improved Listwise Reranking with Single Token Decoding",
        "InsertRank: LLMs can reason over BM25 scores to Improve Listwise Reranking",
        "ProRank: Prompt Warmup via Reinforcement Learning for Small Language Models Reranking",
        "Towards Better Instruction Following Retrieval Models",
    ]
    assert max(rank[t] for t in clip_papers) < min(rank[t] for t in text_rerankers)
    assert set(clip_papers) <= set(selected)
    assert not set(text_rerankers) & set(selected)


def _rounded(rows: list[tuple]) -> list[tuple]:
    """Floats to 9 decimals: DuckDB's parallel BM25 sums can differ in the last bit between runs
    (seen: 1.7350613583469903 vs ...905); anything larger is a real change."""
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]


def test_rematerialising_a_partition_gives_the_same_rows(seed_warehouse):
    tmp_path, instance, resources, _ = seed_warehouse
    query = "SELECT * FROM question_papers ORDER BY question_id, paper_id"
    before = _rows(tmp_path, query)
    _materialize(resources, instance, ["question_papers"], QUESTION_000)
    _materialize(resources, instance, CORPUS_ASSETS)
    assert _rounded(_rows(tmp_path, query)) == _rounded(before)
    counts = _rows(tmp_path, "SELECT question_id, count(*) FROM question_papers GROUP BY ALL ORDER BY 1")
    assert counts[0][1] == counts[1][1] and len(counts) == 2


def test_malformed_file_is_recorded_and_good_files_still_land(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS_DIR, corpus)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    (corpus / "copy-of-002.txt").write_bytes(next(SEEDS_DIR.glob("002_*.txt")).read_bytes())
    instance = DagsterInstance.ephemeral()
    _materialize(_resources(tmp_path, [str(corpus)]), instance, CORPUS_ASSETS)
    rows = {Path(p).name: (status, reason) for p, status, reason in _rows(tmp_path, "SELECT path, status, reason FROM documents")}
    assert len(rows) == 8
    assert rows["empty.txt"][0] == "rejected" and "empty" in rows["empty.txt"][1]
    assert rows["broken.pdf"][0] == "rejected" and rows["broken.pdf"][1]
    assert rows["copy-of-002.txt"][0] == "duplicate" and "002_" in rows["copy-of-002.txt"][1]
    assert sum(status == "ingested" for status, _ in rows.values()) == 5
    (papers,) = _rows(tmp_path, "SELECT count(*) FROM papers")[0]
    assert papers > 40


def test_every_claim_is_complete_and_traceable(seed_warehouse):
    from litsynth.claims import is_complete_sentence

    tmp_path, _, _, checks = seed_warehouse
    for question in (QUESTION_000, QUESTION_004):
        for name in ("chunks_expectations", "claims_expectations", "papers_expectations"):
            if name in checks[question]:
                assert checks[question][name].passed, checks[question][name].metadata
        assert checks[question]["claims_expectations"].passed
    claims = _rows(
        tmp_path,
        "SELECT c.text, substring(p.paper_text, c.char_start + 1, c.char_end - c.char_start), c.claim_type FROM claims c JOIN papers p USING (paper_id)",
    )
    assert len(claims) > 50
    assert all(text == source and is_complete_sentence(text) for text, source, _ in claims)
    (chunk_overflow,) = _rows(tmp_path, "SELECT count(*) FROM chunks WHERE n_tokens > token_budget")[0]
    assert chunk_overflow == 0
    quantities = _rows(tmp_path, "SELECT raw FROM claim_quantities")
    assert quantities, "claims state numbers; some must be parsed"


def test_prior_report_claims_are_matched_or_explained(seed_warehouse):
    tmp_path, *_ = seed_warehouse
    rows = _rows(
        tmp_path,
        "SELECT question_id, printed_text, printed_complete, matched, reason FROM prior_claim_matches ORDER BY question_id",
    )
    assert len(rows) == 16  # 6 claims of seed 004 + 10 of seed 000
    truncated = [text for _, text, complete, _, _ in rows if not complete]
    assert any(t.endswith("from combinatorial to linear, specific") for t in truncated)
    for question_id, _, _, matched, reason in rows:
        assert matched or reason
        if question_id == QUESTION_000 and not matched:
            assert "2505.21439 is in the corpus only as its abstract" in reason
            assert "2403.09513 is not in the corpus" in reason


def test_a_broken_claims_table_fails_its_check_with_the_examples(seed_warehouse, tmp_path):
    source, _, _, _ = seed_warehouse
    shutil.copy(source / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    (claim_id,) = con.execute(f"SELECT min(claim_id) FROM claims WHERE question_id = '{QUESTION_000}'").fetchone()
    con.execute("UPDATE claims SET text = left(text, 37) WHERE claim_id = ?", [claim_id])  # cut mid-sentence
    con.close()
    result = materialize(
        [*all_assets, *asset_checks],
        selection=AssetSelection.checks(AssetCheckKey(AssetKey("claims"), "claims_expectations")),
        resources=_resources(tmp_path, [str(SEEDS_DIR)]),
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    (failure,) = [e.event_specific_data.error.to_string() for e in result.all_events if e.is_step_failure]
    assert "blocking asset check failed" in failure  # a blocking check stops what depends on claims
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed
    failing = evaluation.metadata["failing_examples"].value
    assert set(failing) == {"expect_column_values_to_match_regex_list:text", "expect_column_values_to_be_in_set:span_matches"}
    example = failing["expect_column_values_to_match_regex_list:text"]["examples"][0]
    assert example["row_key"] == f"{QUESTION_000}/{claim_id}" and len(example["text"]) == 37


def test_embeddings_per_model_are_incremental_and_say_why_when_skipped(seed_warehouse):
    tmp_path, instance, resources, _ = seed_warehouse
    for model in ("minilm-l6", "bm25", "clip-vit-b-32"):
        _materialize(resources, instance, ["embeddings"], MultiPartitionKey({"question": QUESTION_000, "model": model}))
    status = {
        model: (state, reason, new)
        for model, state, reason, new in _rows(tmp_path, "SELECT model_id, status, reason, newly_embedded FROM embedding_status")
    }
    # Chunk and claim texts were already embedded with this model by claims/verifications (shared
    # cache), so this partition may encode nothing new; the cache itself is tested in test_vector_store.
    assert status["minilm-l6"][0] == "embedded"
    assert status["bm25"][0] == "lexical"
    assert status["clip-vit-b-32"][0] == "skipped" and "checkpoint" in status["clip-vit-b-32"][1]
    (vectors, chunks, claims) = _rows(
        tmp_path,
        f"""SELECT (SELECT count(*) FROM embeddings_minilm_l6 WHERE question_id = '{QUESTION_000}'),
                   (SELECT count(*) FROM chunks WHERE question_id = '{QUESTION_000}'),
                   (SELECT count(*) FROM claims WHERE question_id = '{QUESTION_000}')""",
    )[0]
    assert vectors == chunks + claims
    before = _rows(tmp_path, "SELECT item_id, vector FROM embeddings_minilm_l6 ORDER BY ALL")
    _materialize(resources, instance, ["embeddings"], MultiPartitionKey({"question": QUESTION_000, "model": "minilm-l6"}))
    assert _rows(tmp_path, "SELECT newly_embedded FROM embedding_status WHERE model_id = 'minilm-l6'") == [(0,)]
    assert _rows(tmp_path, "SELECT item_id, vector FROM embeddings_minilm_l6 ORDER BY ALL") == before


@pytest.mark.parametrize(
    "sql_file",
    sorted((REPO_ROOT / "sql" / "views").glob("*.sql")) + sorted((REPO_ROOT / "sql" / "queries").glob("*.sql")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_every_view_and_example_query_runs_on_a_materialised_warehouse(seed_warehouse, sql_file):
    tmp_path, *_ = seed_warehouse
    con = connect_read_only(tmp_path / "warehouse.duckdb")
    try:
        if sql_file.parent.name == "views":
            view = sql_file.read_text(encoding="utf-8").split("VIEW", 1)[1].split()[0]
            rows = con.execute(f"SELECT * FROM {view}").fetchall()
            if view in ("question_overview", "claims_with_evidence", "prior_report_audit", "question_coverage"):
                assert rows, f"view {view} is empty on the seed warehouse"
        else:
            con.execute(sql_file.read_text(encoding="utf-8")).fetchall()
    finally:
        con.close()


def test_every_claim_is_verified_against_other_papers_only(seed_warehouse):
    tmp_path, *_ = seed_warehouse
    rows = _rows(
        tmp_path,
        """SELECT c.claim_id, c.paper_id, v.label, v.confidence, v.evidence_paper_id, v.evidence_text, v.grounding, v.verifier
           FROM claims c LEFT JOIN verifications v USING (question_id, claim_id)""",
    )
    assert rows and all(label is not None for _, _, label, *_ in rows), "every claim has a verdict"
    for _, paper_id, label, confidence, evidence_paper, evidence_text, grounding, verifier in rows:
        assert 0.0 <= confidence <= 1.0 and verifier.startswith("trained:")  # the shipped version: nothing trained here
        assert evidence_paper != paper_id, "evidence never comes from the claim's own paper"
        assert label == "not_enough_evidence" or evidence_text
        assert grounding == "faithful"  # extracted claims are verbatim spans of their chunk
    assert sum(1 for row in rows if row[5]) > len(rows) / 2, "most claims show an evidence passage"


def test_a_claim_about_a_specific_system_counts_only_evidence_on_that_system(seed_warehouse):
    from litsynth.entities import entity_key

    tmp_path, _, _, checks = seed_warehouse
    for question in (QUESTION_000, QUESTION_004):
        assert checks[question]["claim_entities_expectations"].passed, checks[question]["claim_entities_expectations"].metadata
        assert checks[question]["claim_relations_expectations"].passed, checks[question]["claim_relations_expectations"].metadata
    rows = _rows(
        tmp_path,
        """SELECT v.claim_scope, v.label, v.reason, k.text, e.title,
                  (SELECT list(x.name_key) FROM claim_entities x WHERE x.question_id = v.question_id AND x.claim_id = v.claim_id AND x.is_subject)
           FROM verifications v LEFT JOIN chunks k ON k.question_id = v.question_id AND k.chunk_id = v.evidence_chunk_id
           LEFT JOIN papers e ON e.paper_id = v.evidence_paper_id""",
    )
    assert all(r[2] for r in rows), "every verdict states its reason"
    scopes = {scope for scope, *_ in rows}
    assert {"own", "general"} <= scopes
    for scope, label, reason, passage, evidence_title, subject in rows:
        if scope in ("own", "named") and label != "not_enough_evidence":
            about = entity_key(passage) + entity_key(evidence_title)
            assert subject and any(key in about for key in subject), (reason, passage)
    set_aside = [reason for _, label, reason, *_ in rows if label == "not_enough_evidence" and "set aside" in reason]
    assert all(any(why in r for why in ("the evidence is not about", "unnamed contribution", "states no finding")) for r in set_aside)


def _report(tmp_path: Path, question: str) -> tuple[str, str]:
    folder = tmp_path / "reports" / question
    return (folder / "report.md").read_text(encoding="utf-8"), (folder / "report.html").read_text(encoding="utf-8")


def test_the_first_screen_of_the_seed_000_report_says_what_the_corpus_cannot_answer(seed_warehouse):
    tmp_path, *_ = seed_warehouse
    markdown, _ = _report(tmp_path, QUESTION_000)
    first_screen = "\n".join(markdown.splitlines()[:8])  # title, date line, the answer heading and its paragraph
    assert "## Answer: what the corpus says" in first_screen
    assert "no selected paper covers “one-to-many relationship-based defense strategy”" in first_screen
    assert "Covered: “CLIP” by" in first_screen
    coverage = _rows(tmp_path, f"SELECT concept, answer FROM question_coverage WHERE question_id = '{QUESTION_000}' ORDER BY position")
    assert ("one-to-many relationship-based defense strategy", "not covered by the corpus") in coverage
    assert any(concept == "CLIP" and answer.startswith("covered by") for concept, answer in coverage)


def test_no_report_line_ends_in_a_cut_word_and_evidence_is_shown_whole(seed_warehouse):
    import re

    tmp_path, *_ = seed_warehouse
    texts = _rows(
        tmp_path,
        """SELECT string_agg(t, ' ') FROM (SELECT paper_text || ' ' || title AS t FROM papers UNION ALL SELECT question FROM questions
           UNION ALL SELECT reason FROM verifications UNION ALL SELECT text FROM prior_report_claims
           UNION ALL SELECT coalesce(reason, '') FROM prior_claim_matches UNION ALL SELECT concept FROM question_concepts
           UNION ALL SELECT model_id || ' ' || coalesce(reason, '') FROM embedding_status)""",
    )[0][0]
    templates = [REPO_ROOT / "litsynth" / "report.py", REPO_ROOT / "litsynth" / "evaluation" / "question_retrieval.py"]  # report wording
    vocabulary = set(re.findall(r"[A-Za-z]+", texts + "".join(path.read_text(encoding="utf-8") for path in templates)))
    for question in (QUESTION_000, QUESTION_004):
        markdown, html = _report(tmp_path, question)
        assert "…" not in markdown
        for line in markdown.splitlines():
            words = re.findall(r"[A-Za-z]+", line)
            assert not words or words[-1] in vocabulary, f"cut word at the end of: {line}"
        passages = _rows(tmp_path, f"""SELECT v.evidence_text, k.text FROM verifications v JOIN chunks k ON k.question_id = v.question_id
                                         AND k.chunk_id = v.evidence_chunk_id WHERE v.question_id = '{question}'""")
        flat = " ".join(markdown.replace("\\", "").split())
        for evidence, passage in passages:
            assert " ".join(evidence.replace("\\", "").split()) in flat
        assert "<details><summary>the whole passage</summary>" in html and "&lt;details" not in html


def test_report_html_loads_nothing_remote_and_shows_a_title_image_as_text(seed_warehouse):
    import re

    import polars as pl

    from litsynth.report import load_report_data, render_html, render_markdown

    tmp_path, *_ = seed_warehouse
    _, html = _report(tmp_path, QUESTION_000)
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; style-src \'unsafe-inline\'">' in html
    assert not re.search(r"""<(?:img|script|link|iframe|source|video|audio)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//""", html)
    con = connect_read_only(tmp_path / "warehouse.duckdb")
    try:
        data = load_report_data(con, QUESTION_000)
    finally:
        con.close()
    hostile = "Tracked ![pixel](https://evil.example/p.png) <img src=https://evil.example/q.png>"
    data.papers = data.papers.with_columns(pl.lit(hostile).alias("title"))
    data.question = {**data.question, "question": hostile + " question?"}
    markdown = render_markdown(data)
    page = render_html(markdown, data.question["question"])
    assert "evil.example" in page  # shown as text
    assert "<img" not in page and "![pixel]" not in markdown
