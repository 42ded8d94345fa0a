"""Verifiers: label a (claim, evidence passage) pair supported / contradicted / not enough evidence.

Both verifiers work per evidence *sentence* and then decide for the passage:

- ``P(evidence)`` = how strongly the best sentence bears on the claim; ``P(supported)`` and
  ``P(contradicted)`` split it by stance; ``P(not_enough_evidence) = 1 - P(evidence)``.
- A :class:`Gate` turns probabilities into a label. It labels few passages on purpose: on
  SciFact, precision collapses when every retrieved passage gets a label, so a passage is
  labelled only when its retrieval score and ``P(evidence)`` clear thresholds that were chosen
  on the validation split (never on test data).
- ``rationale``: character spans of the deciding sentences in the evidence, best first.

:class:`BaselineVerifier` is transparent (similarity + numeric/negation/direction cues; the
constants below). :class:`TrainedVerifier` is a MiniLM cross-encoder fine-tuned by
:mod:`litsynth.verify.train`, with temperature-scaled probabilities; it is loaded from
safetensors and JSON only (no pickle). :func:`choose_verifier` uses it only when its recorded
validation F1 beats the baseline's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from litsynth.embeddings import Encoder
from litsynth.text import split_sentences
from litsynth.verify.evidence import direction_conflict, is_negated, numeric_conflict

Label = Literal["supported", "contradicted", "not_enough_evidence"]
SUPPORTED, CONTRADICTED, NEI = "supported", "contradicted", "not_enough_evidence"
LABELS: tuple[Label, ...] = (SUPPORTED, CONTRADICTED, NEI)  # also the trained head's class order

MAX_RATIONALE_SENTENCES = 3  # SciFact scores at most three rationale sentences per abstract
RATIONALE_MIN_PROBABILITY = 0.5  # a sentence beyond the best one joins the rationale above this P(evidence)

# Baseline: best-sentence cosine (MiniLM) mapped linearly onto P(evidence) between these two.
SIMILARITY_FLOOR = 0.30
SIMILARITY_CEIL = 0.90
# Baseline: P(contradicted | evidence) by the strongest cue between claim and best sentence.
CONTRADICTION_PRIOR = 0.20  # no cue: SciFact train has about one contradicted abstract per two supported
NUMERIC_CONFLICT = 0.80  # same metric/unit, different value
NEGATION_MISMATCH = 0.40  # one side negated, the other not: weak (abstracts negate "no significant" findings often)
DIRECTION_MISMATCH = 0.40  # "increases" against "decreased": weak for the same reason


@dataclass(frozen=True)
class Gate:
    """When a passage gets a label at all; both thresholds are tuned on validation claims."""

    min_retrieval_score: float = 0.0  # the retriever's dense cosine of claim and passage
    min_evidence_probability: float = 0.5

    def label(self, probabilities: dict[str, float], retrieval_score: float) -> Label:
        evidence = probabilities[SUPPORTED] + probabilities[CONTRADICTED]
        if retrieval_score < self.min_retrieval_score or evidence < self.min_evidence_probability:
            return NEI
        return SUPPORTED if probabilities[SUPPORTED] >= probabilities[CONTRADICTED] else CONTRADICTED


# Chosen by bench/verify.py's grid on the validation split (80/20 hash split of SciFact train),
# gate tuned jointly with nothing else; see bench/results/verify_scifact.json.
BASELINE_GATE = Gate(min_retrieval_score=0.475, min_evidence_probability=0.7)


@dataclass(frozen=True)
class Verdict:
    label: Label
    confidence: float  # the probability of ``label``
    probabilities: dict[str, float]
    rationale: tuple[tuple[int, int], ...] = ()


class Verifier(Protocol):
    name: str

    def predict(self, claims: list[str], evidence: list[str], retrieval_scores: list[float]) -> list[Verdict]:
        """One verdict per (claim, evidence, retrieval score) triple."""
        ...


def _check_lengths(claims: Sequence, evidence: Sequence, retrieval_scores: Sequence) -> None:
    if not len(claims) == len(evidence) == len(retrieval_scores):
        raise ValueError(f"{len(claims)} claims, {len(evidence)} evidence texts, {len(retrieval_scores)} scores: give one of each per pair")


def _spans(text: str) -> list[tuple[int, int]]:
    return split_sentences(text) or [(0, len(text))]


def _verdict(gate: Gate, probabilities: dict[str, float], retrieval_score: float, rationale: tuple[tuple[int, int], ...]) -> Verdict:
    label = gate.label(probabilities, retrieval_score)
    return Verdict(label, probabilities[label], probabilities, rationale if label != NEI else ())


def _stance_split(p_evidence: float, p_contradicted: float) -> dict[str, float]:
    return {
        SUPPORTED: p_evidence * (1.0 - p_contradicted),
        CONTRADICTED: p_evidence * p_contradicted,
        NEI: 1.0 - p_evidence,
    }


@dataclass
class BaselineVerifier:
    """Similarity decides whether a passage bears on the claim; cues decide the stance."""

    encoder: Encoder
    gate: Gate = BASELINE_GATE
    name: str = "baseline"

    def predict(self, claims: list[str], evidence: list[str], retrieval_scores: list[float]) -> list[Verdict]:
        _check_lengths(claims, evidence, retrieval_scores)
        spans = [_spans(text) for text in evidence]
        sentences = [text[s:e] for text, pair_spans in zip(evidence, spans) for s, e in pair_spans]
        unique_claims = list(dict.fromkeys(claims))
        vectors = self.encoder.encode(unique_claims + sentences, batch_size=64) if sentences else np.zeros((0, 1))
        claim_vectors = dict(zip(unique_claims, vectors[: len(unique_claims)]))
        offset = len(unique_claims)
        verdicts = []
        for claim, text, score, pair_spans in zip(claims, evidence, retrieval_scores, spans):
            similarities = vectors[offset : offset + len(pair_spans)] @ claim_vectors[claim]
            offset += len(pair_spans)
            best = int(np.argmax(similarities))
            start, end = pair_spans[best]
            p_evidence = float(np.clip((similarities[best] - SIMILARITY_FLOOR) / (SIMILARITY_CEIL - SIMILARITY_FLOOR), 0.0, 1.0))
            verdicts.append(_verdict(self.gate, _stance_split(p_evidence, baseline_contradiction(claim, text[start:end])), score, ((start, end),)))
        return verdicts


def baseline_contradiction(claim: str, sentence: str) -> float:
    """P(contradicted | the sentence bears on the claim) from the strongest cue."""
    cues = [CONTRADICTION_PRIOR]
    if numeric_conflict(claim, sentence):
        cues.append(NUMERIC_CONFLICT)
    if is_negated(claim) != is_negated(sentence):
        cues.append(NEGATION_MISMATCH)
    if direction_conflict(claim, sentence):
        cues.append(DIRECTION_MISMATCH)
    return max(cues)


# --- trained verifier ---------------------------------------------------------------------

MODEL_FILE = "model.safetensors"
CARD_FILE = "card.json"
MAX_TOKENS = 128  # claim + one sentence; SciFact sentences average ~30 words


def import_torch():
    from litsynth.models.torch_compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    import torch

    return torch


def build_classifier(config_or_path, *, pretrained: bool):
    """Cross-encoder: a BERT-style encoder over "[CLS] claim [SEP] sentence [SEP]", mean-pooled,
    then a linear 3-way head. Mean pooling, not [CLS]: the sentence-transformers backbones were
    trained to mean-pool, so the pooled vector is meaningful from the first step."""
    torch = import_torch()
    from transformers import AutoModel

    class CrossEncoderClassifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if pretrained:
                self.encoder = AutoModel.from_pretrained(config_or_path, add_pooling_layer=False)
            else:
                self.encoder = AutoModel.from_config(config_or_path, add_pooling_layer=False)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(LABELS))

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled)

    return CrossEncoderClassifier()


def batched_logits(model, tokenizer, pairs: Sequence[tuple[str, str]], *, batch_size: int = 64) -> np.ndarray:
    """Raw logits for (claim, sentence) pairs; pairs are length-sorted so padding stays small."""
    torch = import_torch()
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch = tokenizer([pairs[i][0] for i in chunk], [pairs[i][1] for i in chunk], padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
            out[chunk] = model(**batch).numpy()
    return out


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class TrainedVerifier:
    """A saved model version (``<model_dir>/<version>/``): safetensors weights, the backbone's
    config and tokenizer files, and ``card.json`` with the temperature and the tuned gate."""

    path: Path
    gate: Gate | None = None  # None: the gate recorded in the card
    name: str = "trained"
    card: dict = field(init=False)

    def __post_init__(self) -> None:
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoTokenizer

        self.path = Path(self.path)
        self.card = json.loads((self.path / CARD_FILE).read_text(encoding="utf-8"))
        self.temperature = float(self.card["calibration"]["temperature"])
        if self.gate is None:
            self.gate = Gate(**self.card.get("gate", {}))
        import_torch()
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.path))
        self.model = build_classifier(AutoConfig.from_pretrained(str(self.path)), pretrained=False)
        self.model.load_state_dict(load_file(str(self.path / MODEL_FILE)))
        self.model.eval()

    @property
    def version(self) -> str:
        return self.card["version"]

    def sentence_probabilities(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Temperature-scaled class probabilities per (claim, sentence), columns in ``LABELS`` order."""
        if not pairs:
            return np.zeros((0, len(LABELS)))
        return softmax(batched_logits(self.model, self.tokenizer, pairs), self.temperature)

    def predict(self, claims: list[str], evidence: list[str], retrieval_scores: list[float]) -> list[Verdict]:
        _check_lengths(claims, evidence, retrieval_scores)
        spans = [_spans(text) for text in evidence]
        pairs = [(claim, text[s:e]) for claim, text, pair_spans in zip(claims, evidence, spans) for s, e in pair_spans]
        probabilities = self.sentence_probabilities(pairs)
        verdicts, offset = [], 0
        for score, pair_spans in zip(retrieval_scores, spans):
            p = probabilities[offset : offset + len(pair_spans)]
            offset += len(pair_spans)
            verdicts.append(self._passage_verdict(p, pair_spans, score))
        return verdicts

    def _passage_verdict(self, p: np.ndarray, spans: list[tuple[int, int]], retrieval_score: float) -> Verdict:
        """P(evidence) of the best sentence; stance from the rationale, weighted by P(evidence)."""
        evidence = 1.0 - p[:, LABELS.index(NEI)]
        order = np.argsort(-evidence, kind="stable")
        chosen = [int(order[0])] + [int(i) for i in order[1:MAX_RATIONALE_SENTENCES] if evidence[i] >= RATIONALE_MIN_PROBABILITY]
        support = float((evidence[chosen] * p[chosen, 0]).sum())
        contradict = float((evidence[chosen] * p[chosen, 1]).sum())
        share = contradict / (support + contradict) if support + contradict > 0 else 0.5
        rationale = tuple(spans[i] for i in chosen)
        return _verdict(self.gate, _stance_split(float(evidence[order[0]]), share), retrieval_score, rationale)


def recorded_f1(card: dict, verifier: str) -> float:
    """Abstract-level label-only F1 on the validation split, as recorded in a model card."""
    return float(card["validation"][verifier]["abstract_label_only"]["f1"])


@dataclass(frozen=True)
class Choice:
    verifier: Verifier
    reason: str


def choose_verifier(model_dir: Path, encoder: Encoder) -> Choice:
    """The trained verifier with the best recorded validation F1 if it beats the baseline's
    (measured on the same validation claims, recorded in the same card); else the baseline."""
    cards = [(json.loads(p.read_text(encoding="utf-8")), p.parent) for p in sorted(Path(model_dir).glob(f"*/{CARD_FILE}"))]
    scored = [(recorded_f1(card, "trained"), recorded_f1(card, "baseline"), path) for card, path in cards if "validation" in card]
    if not scored:
        return Choice(BaselineVerifier(encoder), f"no trained model with validation metrics in {model_dir}")
    trained_f1, baseline_f1, path = max(scored, key=lambda row: row[0])
    if trained_f1 > baseline_f1:
        return Choice(TrainedVerifier(path), f"trained {path.name}: validation F1 {trained_f1:.3f} > baseline {baseline_f1:.3f}")
    return Choice(BaselineVerifier(encoder), f"baseline: trained {path.name} validation F1 {trained_f1:.3f} does not beat baseline {baseline_f1:.3f}")
