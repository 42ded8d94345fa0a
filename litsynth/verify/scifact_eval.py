"""SciFact evaluation of a verifier with open retrieval (the verifier never sees oracle evidence).

For each claim the hybrid retriever returns the top ``retriever_k`` abstracts of the whole
corpus; the verifier labels each (claim, abstract) pair and names rationale sentences. Scoring
follows SciFact (Wadden et al., 2020), at most three abstracts per claim and three sentences
per abstract:

- abstract-level label-only: a predicted (doc, label) is correct when doc is a gold evidence
  abstract of the claim and the label equals its gold label; abstracts labelled "not enough
  evidence" are not predictions. P = correct / predicted, R = correct / gold (claim, doc) pairs.
- abstract-level label+rationale: additionally some gold rationale lies wholly within the
  predicted sentences.
- sentence-level selection+label: a predicted sentence of a labelled abstract is correct when
  the abstract's label is right and the sentence belongs to a gold rationale that is wholly
  predicted; R divides by all gold rationale sentences.

The validation split is a deterministic hash of the claim id (:func:`is_validation`), the same
one :mod:`litsynth.verify.train` holds out, so ``split="validation"`` scores only claims no
model was trained on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from litsynth.embeddings import Encoder, embed_cached
from litsynth.ids import sha256_hex
from litsynth.progress import Progress
from litsynth.verify.evidence import EVIDENCE_K, EvidenceRetriever, Hit, Passage
from litsynth.verify.scifact_data import Abstract, SciFactClaim, check_claims_against_corpus, load_claims, load_corpus
from litsynth.verify.verifiers import CONTRADICTED, LABELS, NEI, SUPPORTED, Gate, Label, RetrievalSignal, Verdict, Verifier
from litsynth.warehouse import open_warehouse

MAX_ABSTRACTS = 3  # SciFact's rule: at most three abstracts per claim are scored
MAX_SENTENCES = 3


def is_validation(claim_id: int, fraction: float, salt: str = "scifact-validation") -> bool:
    """Deterministic held-out membership: the claim id's hash, not file order or a random seed.
    A different ``salt`` draws an independent split (the development split inside training)."""
    return int(sha256_hex(f"{salt}:{claim_id}")[:8], 16) / 16**8 < fraction


def split_claims(claims: Sequence[SciFactClaim], validation_fraction: float, salt: str = "scifact-validation") -> tuple[list[SciFactClaim], list[SciFactClaim]]:
    """(training claims, held-out claims)."""
    held = [is_validation(c.id, validation_fraction, salt) for c in claims]
    return [c for c, h in zip(claims, held) if not h], [c for c, h in zip(claims, held) if h]


# --- scoring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    label: Label
    sentences: tuple[int, ...] = ()


Predictions = Mapping[int, Mapping[str, Prediction]]  # claim id -> doc id -> prediction


def _prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "correct": correct, "predicted": predicted, "gold": gold}


def score_predictions(claims: Sequence[SciFactClaim], predictions: Predictions) -> dict:
    """SciFact abstract- and sentence-level metrics (definitions: module docstring)."""
    gold_docs = sum(len(c.evidence) for c in claims)
    gold_sentences = sum(len(set().union(*(r.sentences for r in rs))) for c in claims for rs in c.evidence.values())
    counts = {"gold": dict.fromkeys((SUPPORTED, CONTRADICTED), 0), "predicted": dict.fromkeys(LABELS, 0), "correct": dict.fromkeys((SUPPORTED, CONTRADICTED), 0)}
    label_only = with_rationale = predicted_docs = predicted_sentences = correct_sentences = 0
    for claim in claims:
        for doc_id in claim.evidence:
            counts["gold"][claim.gold_label(doc_id)] += 1
        for doc_id, prediction in list(predictions.get(claim.id, {}).items())[:MAX_ABSTRACTS]:
            counts["predicted"][prediction.label] += 1
            if prediction.label == NEI:
                continue
            predicted_docs += 1
            chosen = set(prediction.sentences[:MAX_SENTENCES])
            predicted_sentences += len(chosen)
            if claim.gold_label(doc_id) != prediction.label:
                continue
            label_only += 1
            counts["correct"][prediction.label] += 1
            contained = [r.sentences for r in claim.evidence[doc_id] if r.sentences <= chosen]
            with_rationale += bool(contained)
            correct_sentences += len(set().union(*contained)) if contained else 0
    return {
        "claims": len(claims),
        "abstract_label_only": _prf(label_only, predicted_docs, gold_docs),
        "abstract_label_rationale": _prf(with_rationale, predicted_docs, gold_docs),
        "sentence_selection_label": _prf(correct_sentences, predicted_sentences, gold_sentences),
        "counts": counts,
    }


def label_only_interval(claims: Sequence[SciFactClaim], predictions: Predictions, *, samples: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Percentile bootstrap over claims of abstract-level label-only F1: how far the figure
    could move on another draw of as many claims (on 162 SciFact claims, about ±0.1)."""
    counts = np.array([
        [m["correct"], m["predicted"], m["gold"]]
        for m in (score_predictions([c], {c.id: predictions.get(c.id, {})})["abstract_label_only"] for c in claims)
    ], dtype=np.float64).reshape(-1, 3)
    if not len(counts):
        return {"low": 0.0, "high": 0.0, "level": level, "samples": 0}
    drawn = counts[np.random.default_rng(seed).integers(0, len(counts), (samples, len(counts)))].sum(axis=1)
    correct, denominator = drawn[:, 0], drawn[:, 1] + drawn[:, 2]
    f1 = np.divide(2 * correct, denominator, out=np.zeros(samples), where=denominator > 0)  # F1 = 2TP / (predicted + gold)
    low, high = np.percentile(f1, [50 * (1 - level), 50 * (1 + level)])
    return {"low": float(low), "high": float(high), "level": level, "samples": samples}


def describe_interval(interval: Mapping) -> str:
    """``label_only_interval``'s result as people read it: "95% bootstrap interval over claims 0.41–0.61"."""
    return f"{interval['level']:.0%} bootstrap interval over claims {interval['low']:.3f}–{interval['high']:.3f}"


# --- open retrieval -----------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """One retrieved abstract of a claim with the verifier's verdict on it."""

    doc_id: str
    retrieval: RetrievalSignal
    verdict: Verdict


def corpus_retriever(corpus: Mapping[str, Abstract], encoder: Encoder, cache_path: Path) -> EvidenceRetriever:
    """A retriever over every abstract; vectors come from the embedding cache of the warehouse
    at ``cache_path`` (the one the pipeline and the benchmarks use), so the corpus is encoded
    once per model."""
    passages = [Passage(doc_id, doc_id, a.search_text) for doc_id, a in corpus.items()]
    with open_warehouse(Path(cache_path)) as con:
        vectors, _ = embed_cached(con, encoder, [p.text for p in passages])
    return EvidenceRetriever(passages, encoder, passage_vectors=vectors)


def retrieve(claims: Sequence[SciFactClaim], retriever: EvidenceRetriever, k: int) -> dict[int, list[Hit]]:
    """Top-k abstracts per claim; SciFact claims come from papers outside the corpus."""
    progress, hits = Progress("retrieving evidence abstracts", len(claims), unit="claims"), {}
    for start in range(0, len(claims), 64):
        block = claims[start : start + 64]
        hits.update(zip((c.id for c in block), retriever.search_many([(c.claim, None) for c in block], k=k)))
        progress.update(advance=len(block))
    return hits


def verify_hits(
    claims: Sequence[SciFactClaim], hits: Mapping[int, list[Hit]], corpus: Mapping[str, Abstract], verifier: Verifier
) -> dict[int, list[Scored]]:
    """The verifier's verdicts on every retrieved (claim, abstract) pair, in one batch."""
    rows = [(c, h, signal) for c in claims for h, signal in zip(hits[c.id], RetrievalSignal.from_hits(hits[c.id]))]
    verdicts = verifier.predict(
        [c.claim for c, _, _ in rows],
        [corpus[h.passage.paper_id].evidence_text for _, h, _ in rows],
        [signal for _, _, signal in rows],
    )
    scored: dict[int, list[Scored]] = {c.id: [] for c in claims}
    for (claim, hit, signal), verdict in zip(rows, verdicts):
        scored[claim.id].append(Scored(hit.passage.paper_id, signal, verdict))
    return scored


def to_predictions(scored: Mapping[int, list[Scored]], corpus: Mapping[str, Abstract], gate: Gate | None = None) -> dict[int, dict[str, Prediction]]:
    """Predictions from verdicts, relabelled by ``gate`` when given (for tuning without re-running the model)."""
    predictions: dict[int, dict[str, Prediction]] = {}
    for claim_id, rows in scored.items():
        predictions[claim_id] = {}
        for row in rows:
            label = gate.label(row.verdict.probabilities, row.retrieval) if gate else row.verdict.label
            sentences = corpus[row.doc_id].sentence_indices(row.verdict.rationale) if label != NEI else ()
            predictions[claim_id][row.doc_id] = Prediction(label, sentences)
    return predictions


# Candidate gates: no retrieval threshold or a cosine in 0.30-0.80; P(evidence) 0.05-0.95.
GATE_GRID = tuple(
    Gate(r, e)
    for r in (0.0, *(round(0.30 + 0.025 * i, 3) for i in range(21)))
    for e in (round(0.05 * i, 2) for i in range(1, 20))
)


def tune_gate(claims: Sequence[SciFactClaim], scored: Mapping[int, list[Scored]], corpus: Mapping[str, Abstract]) -> tuple[Gate, float]:
    """The gate with the best abstract-level label-only F1; ties go to the stricter gate."""
    def f1(gate: Gate) -> float:
        return score_predictions(claims, to_predictions(scored, corpus, gate))["abstract_label_only"]["f1"]

    best = max(GATE_GRID, key=lambda g: (f1(g), g.min_evidence_probability, g.min_retrieval_score))
    return best, f1(best)


def cross_fitted(claims: Sequence[SciFactClaim], scored: Mapping[int, list[Scored]], corpus: Mapping[str, Abstract]) -> dict:
    """Metrics where each half of the claims is labelled with the gate tuned on the other half:
    an estimate free of tuning-on-the-scored-claims optimism."""
    halves = [[c for c in claims if int(sha256_hex(f"fold:{c.id}")[:8], 16) % 2 == h] for h in (0, 1)]
    predictions: dict[int, dict[str, Prediction]] = {}
    gates = []
    for tune_half, apply_half in ((halves[0], halves[1]), (halves[1], halves[0])):
        gate, _ = tune_gate(tune_half, {c.id: scored[c.id] for c in tune_half}, corpus)
        gates.append(gate.__dict__)
        predictions.update(to_predictions({c.id: scored[c.id] for c in apply_half}, corpus, gate))
    return {**score_predictions(claims, predictions), "gates": gates}


def retrieval_recall(claims: Sequence[SciFactClaim], hits: Mapping[int, list[Hit]]) -> float:
    """Share of gold evidence abstracts among the retrieved ones: the ceiling on recall."""
    gold = [(c.id, d) for c in claims for d in c.evidence]
    found = sum(d in {h.passage.paper_id for h in hits[cid]} for cid, d in gold)
    return found / len(gold) if gold else 0.0


def select_claims(claims: Sequence[SciFactClaim], split: str, validation_fraction: float) -> list[SciFactClaim]:
    if split == "all":
        return list(claims)
    if split not in ("train", "validation"):
        raise ValueError(f"split must be all, train or validation, not {split!r}")
    train, validation = split_claims(claims, validation_fraction)
    return validation if split == "validation" else train


def evaluate_claims(
    claims: Sequence[SciFactClaim],
    corpus: Mapping[str, Abstract],
    verifier: Verifier,
    *,
    encoder: Encoder,
    cache_path: Path,
    retriever_k: int = EVIDENCE_K,
) -> dict:
    """Open-retrieval SciFact metrics of ``verifier`` on ``claims``."""
    retriever = corpus_retriever(corpus, encoder, cache_path)
    try:
        hits = retrieve(claims, retriever, retriever_k)
    finally:
        retriever.close()
    predictions = to_predictions(verify_hits(claims, hits, corpus, verifier), corpus)
    return {
        "verifier": verifier.name,
        "retriever_k": retriever_k,
        "retrieval_recall": retrieval_recall(claims, hits),
        **score_predictions(claims, predictions),
        "abstract_label_only_f1_interval": label_only_interval(claims, predictions),
        "sentence_numbers_apply": all(a.sentences_given for a in corpus.values()),
    }


def load_labelled(claims_path: Path, corpus_path: Path, split: str = "all", validation_fraction: float = 0.2) -> tuple[list[SciFactClaim], dict[str, Abstract]]:
    """The split's claims and the corpus, checked against each other (raises DataFormatError)."""
    claims = select_claims(load_claims(claims_path), split, validation_fraction)
    corpus = load_corpus(corpus_path)
    check_claims_against_corpus(claims, corpus, claims_path, corpus_path)
    return claims, corpus

