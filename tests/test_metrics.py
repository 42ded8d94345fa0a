"""Retrieval metrics: hand-computed cases and equality with pytrec_eval (through ir_measures)."""

from __future__ import annotations

import math

import ir_measures
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ir_measures import RR, R, nDCG

from litsynth.evaluation.beir import BeirDataset, bm25_run, load_beir
from litsynth.evaluation.metrics import hit_recall_at_k, per_query_metrics, ranking, retrieval_metrics

MEASURES = {"recall@1": R @ 1, "recall@5": R @ 5, "recall@10": R @ 10, "ndcg@10": nDCG @ 10}

# q1 ranks c (grade 0), d (unjudged), a (grade 1), b (grade 2); q2 is missing from the run;
# q3 has no relevant document, so it is not evaluated.
QRELS = {"q1": {"a": 1, "b": 2, "c": 0}, "q2": {"x": 1}, "q3": {"y": 0}}
RUN = {"q1": {"a": 0.5, "b": 0.4, "c": 0.9, "d": 0.8}, "q3": {"y": 1.0}, "unjudged": {"a": 1.0}}


def test_hand_computed_query():
    got = per_query_metrics(RUN, QRELS, recall_ks=(1, 3, 5))["q1"]
    assert got["recall@1"] == 0.0  # top 1 = {c}: no relevant
    assert got["recall@3"] == 0.5  # top 3 = {c, d, a}: a of {a, b}
    assert got["recall@5"] == 1.0
    assert got["mrr@10"] == pytest.approx(1 / 3)  # first relevant (a) at rank 3
    dcg = 1 / math.log2(4) + 2 / math.log2(5)  # a at rank 3 (gain 1), b at rank 4 (gain 2, linear)
    ideal = 2 / math.log2(2) + 1 / math.log2(3)  # b, then a; c adds gain 0
    assert got["ndcg@10"] == pytest.approx(dcg / ideal) == pytest.approx(0.517442, abs=1e-6)


def test_aggregate_counts_missing_queries_as_zero_and_skips_queries_without_relevant():
    got = retrieval_metrics(RUN, QRELS, extra_recall_ks=(100,))
    assert got["queries"] == 2  # q1 and q2; q3 has no relevant doc, "unjudged" no qrels
    assert got["recall@1"] == 0.0
    assert got["recall@5"] == got["recall@100"] == 0.5  # q1 = 1, q2 = 0
    assert got["mrr@10"] == pytest.approx(1 / 6)
    assert got["ndcg@10"] == pytest.approx(0.517442 / 2, abs=1e-6)


def test_cutoffs_apply():
    run = {"q": {f"d{i:02d}": 100.0 - i for i in range(20)}}  # d00 best … d19 worst
    qrels = {"q": {"d12": 1}}
    got = retrieval_metrics(run, qrels, ndcg_k=5, mrr_k=5, recall_ks=(10,), extra_recall_ks=(13,))
    assert got == {"recall@10": 0.0, "recall@13": 1.0, "mrr@5": 0.0, "ndcg@5": 0.0, "queries": 1}


def test_ties_break_by_doc_id_ascending():
    assert ranking({"b": 1.0, "a": 1.0, "c": 2.0}) == ["c", "a", "b"]
    got = per_query_metrics({"q": {"b": 1.0, "a": 1.0}}, {"q": {"b": 1}})["q"]
    assert got["mrr@10"] == 0.5 and got["recall@1"] == 0.0


def test_no_relevant_anywhere_is_an_error():
    with pytest.raises(ValueError, match="no query"):
        retrieval_metrics({"q": {"a": 1.0}}, {"q": {"a": 0}})


def test_hit_recall():
    rankings = {"cap1": ["i3", "i1", "i2"], "cap2": ["i1", "i2", "i3"], "cap3": ["i2"]}
    positives = {"cap1": {"i1"}, "cap2": {"i3", "i9"}, "cap3": {"i2"}, "cap4": {"i1"}}  # cap4 has no ranking
    assert hit_recall_at_k(rankings, positives, 1) == 1 / 4  # cap3
    assert hit_recall_at_k(rankings, positives, 2) == 2 / 4  # cap1, cap3
    assert hit_recall_at_k(rankings, positives, 3) == 3 / 4  # cap2's i3 at rank 3


def reference(run: dict, qrels: dict) -> dict[str, dict[str, float]]:
    """pytrec_eval's per-query values, keyed like ours.

    trec_eval's recip_rank has no cutoff (ir_measures' pytrec_eval provider ignores RR@10's), so
    MRR@10 is recip_rank over each query's top 10, which is how BEIR computes MRR@k.
    """
    names = {measure: name for name, measure in MEASURES.items()}
    values: dict[str, dict[str, float]] = {}
    for row in ir_measures.pytrec_eval.iter_calc(list(MEASURES.values()), qrels, run):
        values.setdefault(row.query_id, {})[names[row.measure]] = row.value
    top10 = {q: {d: scores[d] for d in ranking(scores)[:10]} for q, scores in run.items()}
    for row in ir_measures.pytrec_eval.iter_calc([RR], qrels, top10):
        values[row.query_id]["mrr@10"] = row.value
    return values


def assert_matches_pytrec_eval(run: dict, qrels: dict) -> None:
    ours = per_query_metrics(run, qrels)
    theirs = reference(run, qrels)
    assert ours, "the case must evaluate at least one query"
    for query, values in ours.items():
        assert values == pytest.approx(theirs[query], abs=1e-6), query
    means = retrieval_metrics(run, qrels)
    for name in [*MEASURES, "mrr@10"]:
        assert means[name] == pytest.approx(np.mean([theirs[q][name] for q in ours]), abs=1e-6)


def random_case(seed: int, n_queries: int = 60, n_docs: int = 80) -> tuple[dict, dict]:
    """Graded qrels (0–3, some queries with nothing relevant), tie-free runs, some queries unranked."""
    rng = np.random.default_rng(seed)
    docs = [f"d{i}" for i in range(n_docs)]
    qrels, run = {}, {}
    for q in range(n_queries):
        judged = rng.choice(docs, size=rng.integers(1, 12), replace=False)
        qrels[f"q{q}"] = {d: int(rng.choice([0, 0, 1, 2, 3])) for d in judged}
        if rng.random() < 0.9:
            ranked = rng.choice(docs, size=rng.integers(1, n_docs), replace=False)
            run[f"q{q}"] = {d: float(s) for d, s in zip(ranked, rng.permutation(len(ranked)) + rng.random())}
    return run, qrels


@pytest.mark.parametrize("seed", range(5))
def test_matches_pytrec_eval_on_random_runs(seed):
    assert_matches_pytrec_eval(*random_case(seed))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dictionaries(st.sampled_from("abcdefghijkl"), st.integers(0, 3), min_size=1),
            st.permutations("abcdefghijklmnop").flatmap(lambda docs: st.integers(0, len(docs)).map(lambda n: docs[:n])),
        ),
        min_size=1,
        max_size=6,
    ).filter(lambda cases: any(g >= 1 for judged, _ in cases for g in judged.values()))
)
def test_matches_pytrec_eval_generated(cases):
    qrels = {f"q{i}": judged for i, (judged, _) in enumerate(cases)}
    run = {f"q{i}": {d: float(len(ranked) - r) for r, d in enumerate(ranked)} for i, (_, ranked) in enumerate(cases) if ranked}
    assert_matches_pytrec_eval(run, qrels)


def test_matches_pytrec_eval_on_bm25_over_scifact_subset(shared_data):
    """A real run: BM25 for 100 SciFact test queries over their relevant abstracts plus others, 500 in all."""
    full = load_beir(shared_data / "scifact" / "beir", "test")
    qrels = {q: full.qrels[q] for q in sorted(full.qrels)[:100]}
    relevant = sorted({d for judged in qrels.values() for d in judged})
    others = [d for d in full.corpus if d not in set(relevant)][: 500 - len(relevant)]
    subset = BeirDataset({d: full.corpus[d] for d in relevant + others}, {q: full.queries[q] for q in qrels}, qrels)
    run = bm25_run(subset, top_k=100)
    # Scores replaced by reverse rank so trec_eval's tie-break (doc id descending) cannot reorder ties.
    tie_free = {q: {d: float(len(scores) - r) for r, d in enumerate(ranking(scores))} for q, scores in run.items()}
    assert_matches_pytrec_eval(tie_free, qrels)
    assert retrieval_metrics(run, qrels)["ndcg@10"] > 0.6
