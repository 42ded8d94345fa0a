"""BEIR loading, model evaluation on a SciFact subset, and the ``eval retrieval`` command."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import pytest

from litsynth.config import Settings, load_catalog
from litsynth.datafiles import DataFormatError
from litsynth.evaluation import cli_retrieval
from litsynth.evaluation.beir import BeirDataset, document_text, evaluate_model, load_beir

from .conftest import REPO_ROOT

ROOT = Path(__file__).resolve().parents[1]
CATALOG = load_catalog(ROOT / "models.yaml")

TINY_CORPUS = [
    {"_id": "d1", "title": "Dense retrieval", "text": "Dual encoders embed queries and passages for nearest-neighbour search."},
    {"_id": "d2", "title": "BM25", "text": "Okapi BM25 ranks documents by term frequency and inverse document frequency."},
    {"_id": "d3", "title": "Image captioning", "text": "Models describe photographs with natural language sentences."},
    {"_id": "d4", "title": "Protein folding", "text": "Predicting three-dimensional protein structure from amino acid sequences."},
]
TINY_QUERIES = [
    {"_id": "q1", "text": "term frequency ranking function BM25"},
    {"_id": "q2", "text": "protein structure prediction"},
    {"_id": "q3", "text": "a query without judgements"},
]
TINY_QRELS = "query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td4\t2\n"


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.fixture
def tiny_beir(tmp_path: Path) -> Path:
    write_jsonl(tmp_path / "corpus.jsonl", TINY_CORPUS)
    write_jsonl(tmp_path / "queries.jsonl", TINY_QUERIES)
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text(TINY_QRELS, encoding="utf-8")
    return tmp_path


def test_loads_shared_scifact(shared_data):
    folder = shared_data / "scifact" / "beir"
    test = load_beir(folder)
    assert (len(test.corpus), len(test.queries)) == (5183, 300)
    assert sum(len(judged) for judged in test.qrels.values()) == 339
    assert set(test.queries) == set(test.qrels)
    first = json.loads((shared_data / "scifact" / "corpus.jsonl").read_text(encoding="utf-8").split("\n", 1)[0])
    assert test.corpus[str(first["doc_id"])] == (first["title"], " ".join(first["abstract"]))
    train = load_beir(folder, "train")
    assert len(train.queries) == 809 and train.corpus == test.corpus


def test_loads_standard_beir_folder(tiny_beir):
    dataset = load_beir(tiny_beir)
    assert dataset.corpus["d2"] == ("BM25", TINY_CORPUS[1]["text"])
    assert dataset.queries == {"q1": TINY_QUERIES[0]["text"], "q2": TINY_QUERIES[1]["text"]}  # q3 is unjudged
    assert dataset.qrels == {"q1": {"d2": 1}, "q2": {"d4": 2}}
    assert document_text("", "  text only ") == "text only"


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("corpus.jsonl", '{"_id": "d1", "title": "t", "text": "x"}\n{broken\n', r"corpus\.jsonl: line 2: not valid JSON"),
        ("corpus.jsonl", '{"_id": "d1", "title": "t"}\n', r"line 1: field 'text' must be a str, but is missing"),
        ("corpus.jsonl", '{"doc_id": 1, "title": "t", "abstract": "not a list"}\n', r"field 'abstract' must be a list"),
        ("corpus.jsonl", '{"title": "t", "text": "x"}\n', r"no 'doc_id' \(SciFact\) or '_id' \(BEIR\)"),
        ("corpus.jsonl", '{"_id": "d1", "text": "x"}\n{"_id": "d1", "text": "y"}\n', r"line 2: doc id 'd1' appears twice"),
        ("queries.jsonl", '["q1", "text"]\n', r"queries\.jsonl: line 1: expected a JSON object"),
        ("qrels/test.tsv", "q1\td2\t1\n", r"test\.tsv: line 1: expected the header"),
        ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td2\n", r"test\.tsv: line 2: expected 3 tab-separated columns"),
        ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td2\thigh\n", r"line 2: score 'high' is not an integer"),
        ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq9\td2\t1\n", r"query ids \['q9'\] are not in .*queries\.jsonl"),
    ],
)
def test_malformed_files_name_the_problem(tiny_beir, file, content, message):
    (tiny_beir / file).write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message):
        load_beir(tiny_beir)


def test_missing_files_name_the_fix(tiny_beir, tmp_path):
    with pytest.raises(DataFormatError, match=r"dev\.tsv: file not found. Fix: give a split"):
        load_beir(tiny_beir, "dev")
    empty = tmp_path / "empty" / "beir"
    empty.mkdir(parents=True)
    with pytest.raises(DataFormatError, match="no corpus.jsonl"):
        load_beir(empty)


@pytest.fixture(scope="module")
def scifact_subset(shared_data) -> BeirDataset:
    """30 test queries, their relevant abstracts and 200 other abstracts (small enough to encode in seconds)."""
    full = load_beir(shared_data / "scifact" / "beir")
    queries = sorted(full.queries)[:30]
    relevant = {d for q in queries for d in full.qrels[q]}
    others = random.Random(0).sample(sorted(set(full.corpus) - relevant), 200)
    return BeirDataset(
        {d: full.corpus[d] for d in sorted(relevant) + others},
        {q: full.queries[q] for q in queries},
        {q: full.qrels[q] for q in queries},
    )


@pytest.fixture(scope="module")
def subset_results(scifact_subset):
    return {
        model: evaluate_model(scifact_subset, CATALOG.get(model), project_root=ROOT, catalog=CATALOG)
        for model in ("bm25", "minilm-l6")
    }


@pytest.mark.parametrize("model", ["bm25", "minilm-l6"])
def test_models_retrieve_scifact_evidence(subset_results, model):
    result = subset_results[model]
    metrics = result.metrics
    assert set(metrics) == {"recall@1", "recall@5", "recall@10", "recall@100", "mrr@10", "ndcg@10", "queries"}
    assert metrics["queries"] == 30
    assert metrics["ndcg@10"] > 0.5 and metrics["recall@100"] >= metrics["recall@10"] > 0.6
    assert all(0 < len(docs) <= 100 for docs in result.run.values())
    assert result.seconds > 0


def test_hybrid_fuses_component_runs(scifact_subset, subset_results):
    hybrid = CATALOG.get("hybrid").model_copy(update={"components": ("bm25", "minilm-l6")})
    runs = {model: result.run for model, result in subset_results.items()}
    result = evaluate_model(scifact_subset, hybrid, project_root=ROOT, catalog=CATALOG, component_runs=runs)
    assert result.metrics["ndcg@10"] > 0.5
    for query, docs in result.run.items():
        assert set(docs) <= set(runs["bm25"][query]) | set(runs["minilm-l6"][query])


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli_retrieval.add_parser(parser.add_subparsers())
    args = parser.parse_args(["retrieval", *argv])
    return args.handler(args, Settings.load(REPO_ROOT))


@pytest.mark.parametrize("model", ["bm25", "minilm-l6"])
def test_cli_writes_metrics_json(tiny_beir, tmp_path, model):
    out = tmp_path / "out" / f"{model}.json"
    assert run_cli("--beir", str(tiny_beir), "--model", model, "--out", str(out)) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["model"] == model and report["split"] == "test" and report["corpus_docs"] == 4
    assert report["metrics"]["queries"] == 2
    assert report["metrics"]["recall@1"] == 1.0  # each judged document is the obvious top hit


def test_cli_reports_bad_input(tiny_beir, tmp_path, capsys):
    out = tmp_path / "never.json"
    assert run_cli("--beir", str(tiny_beir), "--model", "no-such-model", "--out", str(out)) == 2
    assert "unknown model id 'no-such-model'" in capsys.readouterr().err
    assert run_cli("--beir", str(tiny_beir), "--model", "clip-vit-b-32", "--out", str(out)) == 2
    assert "retrieves no text documents" in capsys.readouterr().err
    assert run_cli("--beir", str(tmp_path / "nowhere"), "--model", "bm25", "--out", str(out)) == 2
    assert not out.exists()
