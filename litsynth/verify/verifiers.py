"""Verifiers: label a (claim, evidence passage) pair supported / contradicted / not enough evidence.

Both verifiers work per evidence *sentence* and then decide for the passage:

- ``P(evidence)`` = how strongly the best sentence bears on the claim; ``P(supported)`` and
  ``P(contradicted)`` split it by stance; ``P(not_enough_evidence) = 1 - P(evidence)``.
- Few passages get a label, on purpose: on SciFact, precision collapses when every retrieved
  passage gets one. The baseline's :class:`Gate` labels a passage only when its retrieval
  cosine and ``P(evidence)`` clear two constants; the trained verifier's
  :class:`EvidenceSelector` is a logistic regression over what retrieval knows
  (:class:`RetrievalSignal`) and the best sentence's cosine, trained with its threshold on the
  training claims only.
- ``rationale``: character spans of the deciding sentences in the evidence, best first.

:class:`BaselineVerifier` is transparent (similarity + numeric/negation/direction cues; the
constants below). :class:`TrainedVerifier` is an attention head over frozen MiniLM token states
(stance and rationale sentences, temperature-scaled) plus the evidence selector, both trained
by :mod:`litsynth.verify.train`; it is loaded
from safetensors and JSON only (no pickle). :func:`choose_verifier` uses it only when its recorded
validation F1 beats the baseline's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from litsynth.embeddings import Encoder
from litsynth.ids import sha256_hex
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
class RetrievalSignal:
    """What the retriever knows about one (claim, passage) pair, for deciding whether to label it."""

    dense: float  # cosine of claim and passage
    rank: int = 1  # fused rank among the claim's retrieved passages, 1 = best
    lexical_match: bool = True  # BM25 found a query term in the passage

    @classmethod
    def from_hit(cls, hit) -> "RetrievalSignal":
        """From a :class:`litsynth.verify.evidence.Hit`."""
        return cls(float(hit.dense), int(hit.rank), hit.bm25 is not None)


@dataclass(frozen=True)
class Gate:
    """When a passage gets a label at all (two thresholds), and which stance: contradicted when
    P(contradicted) is more than ``contradiction_share`` of P(evidence)."""

    min_retrieval_score: float = 0.0  # the retriever's dense cosine of claim and passage
    min_evidence_probability: float = 0.5
    contradiction_share: float = 0.5

    def label(self, probabilities: dict[str, float], retrieval: RetrievalSignal) -> Label:
        evidence = probabilities[SUPPORTED] + probabilities[CONTRADICTED]
        if retrieval.dense < self.min_retrieval_score or evidence < self.min_evidence_probability:
            return NEI
        return CONTRADICTED if probabilities[CONTRADICTED] > self.contradiction_share * evidence else SUPPORTED


# Chosen by bench/verify.py's grid on the validation split (80/20 hash split of SciFact train),
# gate tuned jointly with nothing else; see bench/results/verify_scifact.json.
BASELINE_GATE = Gate(min_retrieval_score=0.475, min_evidence_probability=0.7)

SELECTOR_FEATURES = ("dense", "best_sentence_cosine", "inverse_rank", "no_lexical_match")


@dataclass(frozen=True)
class EvidenceSelector:
    """Is a retrieved passage evidence on the claim at all (either stance)? A logistic
    regression over :data:`SELECTOR_FEATURES`, all of them portable across corpora (cosines and
    ranks, no raw BM25 scores); a passage is labelled when P(evidence) >= ``threshold``.

    On SciFact validation claims it separates gold evidence abstracts from the other retrieved
    ones far better than the retrieval cosine alone (ROC AUC recorded in the model card)."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    @staticmethod
    def features(retrieval: RetrievalSignal, best_sentence_cosine: float) -> list[float]:
        return [retrieval.dense, best_sentence_cosine, 1.0 / max(retrieval.rank, 1), float(not retrieval.lexical_match)]

    def probability(self, retrieval: RetrievalSignal, best_sentence_cosine: float) -> float:
        return float(self.probabilities(np.array([self.features(retrieval, best_sentence_cosine)]))[0])

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """P(evidence) per row of :meth:`features` values."""
        return 1.0 / (1.0 + np.exp(-(features @ np.asarray(self.weights) + self.bias)))

    def gate(self, contradiction_share: float) -> Gate:
        """The trained verifier's labelling rule: evidence at this selector's threshold, stance
        by ``contradiction_share``."""
        return Gate(min_evidence_probability=self.threshold, contradiction_share=contradiction_share)


@dataclass(frozen=True)
class Verdict:
    label: Label
    confidence: float  # the probability of ``label``
    probabilities: dict[str, float]
    rationale: tuple[tuple[int, int], ...] = ()


class Verifier(Protocol):
    name: str

    def predict(self, claims: list[str], evidence: list[str], retrieval: list[RetrievalSignal]) -> list[Verdict]:
        """One verdict per (claim, evidence passage, retrieval signal) triple."""
        ...


def _check_lengths(claims: Sequence, evidence: Sequence, retrieval: Sequence) -> None:
    if not len(claims) == len(evidence) == len(retrieval):
        raise ValueError(f"{len(claims)} claims, {len(evidence)} evidence texts, {len(retrieval)} retrieval signals: give one of each per pair")


def _spans(text: str) -> list[tuple[int, int]]:
    return split_sentences(text) or [(0, len(text))]


def _verdict(label: Label, probabilities: dict[str, float], rationale: tuple[tuple[int, int], ...]) -> Verdict:
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

    def predict(self, claims: list[str], evidence: list[str], retrieval: list[RetrievalSignal]) -> list[Verdict]:
        _check_lengths(claims, evidence, retrieval)
        spans = [_spans(text) for text in evidence]
        sentences = [text[s:e] for text, pair_spans in zip(evidence, spans) for s, e in pair_spans]
        unique_claims = list(dict.fromkeys(claims))
        vectors = self.encoder.encode(unique_claims + sentences, batch_size=64) if sentences else np.zeros((0, 1))
        claim_vectors = dict(zip(unique_claims, vectors[: len(unique_claims)]))
        offset = len(unique_claims)
        verdicts = []
        for claim, text, signal, pair_spans in zip(claims, evidence, retrieval, spans):
            similarities = vectors[offset : offset + len(pair_spans)] @ claim_vectors[claim]
            offset += len(pair_spans)
            best = int(np.argmax(similarities))
            start, end = pair_spans[best]
            p_evidence = float(np.clip((similarities[best] - SIMILARITY_FLOOR) / (SIMILARITY_CEIL - SIMILARITY_FLOOR), 0.0, 1.0))
            probabilities = _stance_split(p_evidence, baseline_contradiction(claim, text[start:end]))
            verdicts.append(_verdict(self.gate.label(probabilities, signal), probabilities, ((start, end),)))
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
MAX_TOKENS = 128  # per text; SciFact sentences average ~30 words
HEAD_DIM = 128
# Pair features next to the attention summary: what the baseline knows, handed to the head.
FEATURES = ("cosine", "negation_mismatch", "direction_conflict", "numeric_conflict", "claim_negated", "sentence_negated")


def import_torch():
    from litsynth.models.torch_compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    import torch

    return torch


def pair_features(claim: str, sentence: str, cosine: float) -> list[float]:
    return [
        cosine,
        float(is_negated(claim) != is_negated(sentence)),
        float(direction_conflict(claim, sentence)),
        float(numeric_conflict(claim, sentence)),
        float(is_negated(claim)),
        float(is_negated(sentence)),
    ]


class TokenEncoder:
    """The frozen backbone: contextual token states per text, computed once per text and kept.

    The backbone is not fine-tuned: on this CPU a full MiniLM fine-tune learned nothing in the
    time allowed (DESIGN.md probe; recorded again in bench/results/verify_scifact.json), while a
    small head over frozen token states trains for many epochs in a minute.
    """

    def __init__(self, source: str) -> None:
        import_torch()
        from transformers import AutoModel, AutoTokenizer

        self.source = source
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.model = AutoModel.from_pretrained(source, add_pooling_layer=False).eval()
        self._cache: dict[str, np.ndarray] = {}

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> list[np.ndarray]:
        """(tokens, dim) float16 states per text, special tokens included, padding removed."""
        torch = import_torch()
        missing = sorted({t for t in texts if t not in self._cache}, key=len)
        with torch.inference_mode():
            for start in range(0, len(missing), batch_size):
                chunk = missing[start : start + batch_size]
                batch = self.tokenizer(chunk, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
                states = self.model(**batch).last_hidden_state.numpy()
                for text, row, mask in zip(chunk, states, batch["attention_mask"].numpy()):
                    self._cache[text] = row[mask.astype(bool)].astype(np.float16)
        return [self._cache[t] for t in texts]


def unit_mean(states: np.ndarray) -> np.ndarray:
    """The sentence-transformers embedding: mean of the token states, unit length."""
    mean = states.astype(np.float32).mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def build_head(dim: int, seed: int):
    """Decomposable attention (Parikh et al., 2016) over frozen token states: each claim token
    is compared with the evidence tokens it attends to and vice versa, the comparisons are
    pooled (mean and max) and, with :data:`FEATURES`, classified 3-way. Alignment, not a pooled
    pair vector, is what lets "increased" meet "decreased"."""
    torch = import_torch()
    nn = torch.nn
    torch.manual_seed(seed)

    class AttentionHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.project = nn.Linear(dim, HEAD_DIM)
            self.compare = nn.Sequential(nn.Linear(4 * HEAD_DIM, HEAD_DIM), nn.ReLU(), nn.Dropout(0.1), nn.Linear(HEAD_DIM, HEAD_DIM), nn.ReLU())
            self.classify = nn.Sequential(nn.Linear(4 * HEAD_DIM + len(FEATURES), HEAD_DIM), nn.ReLU(), nn.Dropout(0.1), nn.Linear(HEAD_DIM, len(LABELS)))

        def _side(self, x, x_mask, aligned):
            compared = self.compare(torch.cat([x, aligned, x - aligned, x * aligned], dim=-1))
            mask = x_mask.unsqueeze(-1)
            mean = (compared * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            peak = compared.masked_fill(~mask.bool(), -1e4).max(1).values
            return torch.cat([mean, peak], dim=-1)

        def forward(self, claim, claim_mask, sentence, sentence_mask, features):
            a, b = self.project(claim), self.project(sentence)
            scores = a @ b.transpose(1, 2) / HEAD_DIM**0.5
            to_sentence = scores.masked_fill(~sentence_mask.bool().unsqueeze(1), -1e4).softmax(-1)
            to_claim = scores.masked_fill(~claim_mask.bool().unsqueeze(2), -1e4).softmax(1)
            pooled = torch.cat([self._side(a, claim_mask, to_sentence @ b), self._side(b, sentence_mask, to_claim.transpose(1, 2) @ a)], dim=-1)
            return self.classify(torch.cat([pooled, features], dim=-1))

    return AttentionHead()


def collate(claims: Sequence[np.ndarray], sentences: Sequence[np.ndarray], features: Sequence[Sequence[float]]):
    """Padded tensors for a batch of (claim states, sentence states, features)."""
    torch = import_torch()

    def pad(states):
        longest = max(len(s) for s in states)
        out = np.zeros((len(states), longest, states[0].shape[1]), dtype=np.float32)
        mask = np.zeros((len(states), longest), dtype=np.float32)
        for i, s in enumerate(states):
            out[i, : len(s)], mask[i, : len(s)] = s, 1.0
        return torch.from_numpy(out), torch.from_numpy(mask)

    return (*pad(claims), *pad(sentences), torch.tensor(np.asarray(features, dtype=np.float32)))


@dataclass
class PairInputs:
    """Everything the head reads for a list of (claim, sentence) pairs."""

    claims: list[np.ndarray]
    sentences: list[np.ndarray]
    features: list[list[float]]

    @classmethod
    def build(cls, encoder: TokenEncoder, pairs: Sequence[tuple[str, str]]) -> "PairInputs":
        claims = encoder.encode([c for c, _ in pairs])
        sentences = encoder.encode([s for _, s in pairs])
        features = [pair_features(c, s, float(unit_mean(cs) @ unit_mean(ss))) for (c, s), cs, ss in zip(pairs, claims, sentences)]
        return cls(claims, sentences, features)

    def batch(self, index: Sequence[int]):
        return collate([self.claims[i] for i in index], [self.sentences[i] for i in index], [self.features[i] for i in index])


def head_logits(head, inputs: PairInputs, *, batch_size: int = 256) -> np.ndarray:
    torch = import_torch()
    head.eval()
    out = np.zeros((len(inputs.claims), len(LABELS)), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(out), batch_size):
            index = list(range(start, min(start + batch_size, len(out))))
            out[index] = head(*inputs.batch(index)).numpy()
    return out


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def backbone_source(backbone: str) -> str:
    """Where a catalog backbone's weights are here (package, local folder or hub)."""
    from litsynth.config import Settings, project_root
    from litsynth.models.text_encoder import resolve_weights

    root = project_root()
    return resolve_weights(Settings(project_root=root).catalog().get(backbone), root)[0]


CURRENT_CARD_KEYS = ("selector", "stance")  # what a card of the current training recipe holds


@dataclass
class TrainedVerifier:
    """A saved model version (``<model_dir>/<version>/``): the head as safetensors and
    ``card.json`` (backbone, temperature, evidence selector). The frozen backbone is loaded from
    the model catalog and checked against the weights hash recorded at training time."""

    path: Path
    token_encoder: TokenEncoder | None = None  # share one to reuse its cached states
    name: str = "trained"

    def __post_init__(self) -> None:
        from safetensors.torch import load_file

        self.path = Path(self.path)
        self.card = json.loads((self.path / CARD_FILE).read_text(encoding="utf-8"))
        self.temperature = float(self.card["calibration"]["temperature"])
        missing = [key for key in CURRENT_CARD_KEYS if key not in self.card]
        if missing:
            raise ValueError(f"{self.path / CARD_FILE}: no {', '.join(map(repr, missing))} (a model of an older recipe); retrain the verifier")
        recorded = self.card["selector"]
        self.selector = EvidenceSelector(tuple(recorded["weights"]), float(recorded["bias"]), float(recorded["threshold"]))
        self.gate = self.selector.gate(float(self.card["stance"]["contradiction_share"]))
        backbone = self.card["backbone"]
        if self.token_encoder is None:
            self.token_encoder = TokenEncoder(backbone_source(backbone["id"]))
        found = weights_hash(self.token_encoder.source)
        if found != backbone["weights_sha256"]:
            raise ValueError(f"{self.path}: backbone {backbone['id']} weights differ from training ({found[:12]} != {backbone['weights_sha256'][:12]}); retrain the verifier")
        self.head = build_head(self.token_encoder.dim, seed=0)
        self.head.load_state_dict(load_file(str(self.path / MODEL_FILE)))
        self.head.eval()

    @property
    def version(self) -> str:
        return self.card["version"]

    def sentence_outputs(self, pairs: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
        """Per (claim, sentence): temperature-scaled class probabilities (columns in ``LABELS``
        order) and the backbone's sentence-embedding cosine."""
        if not pairs:
            return np.zeros((0, len(LABELS))), np.zeros(0)
        inputs = PairInputs.build(self.token_encoder, pairs)
        return softmax(head_logits(self.head, inputs), self.temperature), np.array([f[0] for f in inputs.features])

    def predict(self, claims: list[str], evidence: list[str], retrieval: list[RetrievalSignal]) -> list[Verdict]:
        _check_lengths(claims, evidence, retrieval)
        spans = [_spans(text) for text in evidence]
        pairs = [(claim, text[s:e]) for claim, text, pair_spans in zip(claims, evidence, spans) for s, e in pair_spans]
        probabilities, cosines = self.sentence_outputs(pairs)
        verdicts, offset = [], 0
        for signal, pair_spans in zip(retrieval, spans):
            window = slice(offset, offset + len(pair_spans))
            offset += len(pair_spans)
            verdicts.append(self._passage_verdict(probabilities[window], cosines[window], pair_spans, signal))
        return verdicts

    def _passage_verdict(self, p: np.ndarray, cosines: np.ndarray, spans: list[tuple[int, int]], signal: RetrievalSignal) -> Verdict:
        """P(evidence) from the selector; stance from the head on the rationale sentences (its
        best sentences), weighted by their P(evidence); the label by :attr:`gate` (the selector's
        threshold and the contradiction share chosen on development claims)."""
        evidence = 1.0 - p[:, LABELS.index(NEI)]
        order = np.argsort(-evidence, kind="stable")
        chosen = [int(order[0])] + [int(i) for i in order[1:MAX_RATIONALE_SENTENCES] if evidence[i] >= RATIONALE_MIN_PROBABILITY]
        support = float((evidence[chosen] * p[chosen, 0]).sum())
        contradict = float((evidence[chosen] * p[chosen, 1]).sum())
        share = contradict / (support + contradict) if support + contradict > 0 else 0.5
        p_evidence = self.selector.probability(signal, float(cosines.max()))
        probabilities = _stance_split(p_evidence, share)
        return _verdict(self.gate.label(probabilities, signal), probabilities, tuple(spans[i] for i in chosen))


def weights_hash(source: str) -> str:
    """sha256 of a backbone folder's weight file(s), so a loaded head meets the states it was trained on."""
    files = sorted(Path(source).glob("*.safetensors")) or sorted(Path(source).glob("*.bin"))
    return sha256_hex(b"".join(f.read_bytes() for f in files))


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
    scored = [(recorded_f1(card, "trained"), recorded_f1(card, "baseline"), path) for card, path in cards if {"validation", *CURRENT_CARD_KEYS} <= card.keys()]
    if not scored:
        return Choice(BaselineVerifier(encoder), f"no trained model with validation metrics in {model_dir}")
    trained_f1, baseline_f1, path = max(scored, key=lambda row: row[0])
    if trained_f1 > baseline_f1:
        return Choice(TrainedVerifier(path), f"trained {path.name}: validation F1 {trained_f1:.3f} > baseline {baseline_f1:.3f}")
    return Choice(BaselineVerifier(encoder), f"baseline: trained {path.name} validation F1 {trained_f1:.3f} does not beat baseline {baseline_f1:.3f}")
