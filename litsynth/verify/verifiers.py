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
constants below). :class:`TrainedVerifier` is a cross-encoder made of MiniLM's upper layers,
fine-tuned over the cached states of its frozen lower layers (stance and rationale sentences,
temperature-scaled), plus the evidence selector, both trained by :mod:`litsynth.verify.train`;
it is loaded from safetensors (half precision, checked against the card's sha256) and JSON only
(no pickle). :func:`choose_verifier` takes the best version trained here or shipped with the
project (``models/verifier/``), and only when its recorded validation F1 beats the baseline's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from litsynth.config import Settings
from litsynth.embeddings import Encoder
from litsynth.ids import sha256_hex
from litsynth.progress import Progress
from litsynth.text import split_sentences
from litsynth.verify.evidence import Hit, direction_conflict, is_negated, numeric_conflict

Label = Literal["supported", "contradicted", "not_enough_evidence"]
SUPPORTED, CONTRADICTED, NEI = "supported", "contradicted", "not_enough_evidence"
LABELS: tuple[Label, ...] = (SUPPORTED, CONTRADICTED, NEI)  # also the trained head's class order

MAX_RATIONALE_SENTENCES = 3  # SciFact scores at most three rationale sentences per abstract
RATIONALE_MIN_PROBABILITY = 0.5  # a sentence beyond the best one joins the rationale above this P(evidence)
# Candidate weights of the sentence cosine in the rationale score (rationale_scores); training picks one on development claims.
RATIONALE_COSINE_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)

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
    """What the retriever knows about one (claim, passage) pair, for deciding whether to label it.
    The defaults describe a lone hit that mentions every claim term."""

    dense: float  # cosine of claim and passage
    rank: int = 1  # fused rank among the claim's retrieved passages, 1 = best
    lexical_match: bool = True  # BM25 found a query term in the passage
    dense_gap: float = 0.0  # the claim's best retrieved cosine minus this one
    dense_margin: float = 0.0  # this cosine minus the best of the claim's other retrieved passages (0: none)
    bm25_share: float = 1.0  # BM25 score over the best BM25 score among the claim's retrieved passages
    term_coverage: float = 1.0  # IDF-weighted share of the claim's terms in the passage
    sentence_term_coverage: float = 1.0  # the same in the passage's best sentence

    @classmethod
    def from_hits(cls, hits: Sequence[Hit]) -> list["RetrievalSignal"]:
        """One signal per hit of one claim's search; the relative fields compare it with the others."""
        dense = [h.dense for h in hits]
        best_bm25 = max((h.bm25 or 0.0 for h in hits), default=0.0)
        signals = []
        for i, hit in enumerate(hits):
            others = dense[:i] + dense[i + 1 :]
            signals.append(cls(
                float(hit.dense), int(hit.rank), hit.bm25 is not None,
                dense_gap=max(dense) - hit.dense,
                dense_margin=hit.dense - max(others) if others else 0.0,
                bm25_share=(hit.bm25 or 0.0) / best_bm25 if best_bm25 > 0 else 0.0,
                term_coverage=hit.term_coverage,
                sentence_term_coverage=hit.sentence_term_coverage,
            ))
        return signals


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

SELECTOR_FEATURES = (
    "dense", "best_sentence_cosine", "inverse_rank", "no_lexical_match",
    "dense_gap", "dense_margin", "bm25_share", "term_coverage", "sentence_term_coverage",
)


@dataclass(frozen=True)
class EvidenceSelector:
    """Is a retrieved passage evidence on the claim at all (either stance)? A logistic
    regression over :data:`SELECTOR_FEATURES`, all of them portable across corpora (cosines,
    ranks, shares of the claim's best hit and of its IDF-weighted terms; no raw BM25 scores); a
    passage is labelled when P(evidence) >= ``threshold``.

    On SciFact validation claims it separates gold evidence abstracts from the other retrieved
    ones far better than the retrieval cosine alone (ROC AUC recorded in the model card)."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    @staticmethod
    def features(retrieval: RetrievalSignal, best_sentence_cosine: float) -> list[float]:
        return [
            retrieval.dense, best_sentence_cosine, 1.0 / max(retrieval.rank, 1), float(not retrieval.lexical_match),
            retrieval.dense_gap, retrieval.dense_margin, retrieval.bm25_share, retrieval.term_coverage, retrieval.sentence_term_coverage,
        ]

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
FROZEN_LAYERS = 3  # backbone layers run once per text and cached; the layers above read claim and sentence together
# Pair features next to the cross-encoder's pooled states: what the baseline knows, handed to the classifier.
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
    """The frozen lower part of the backbone, run once per text and kept: the token states after
    its first ``frozen_layers`` layers (what the trained upper layers read, claim and sentence
    side by side) and the sentence embedding (mean of the last layer, unit length: the
    sentence-transformers vector, for cosines).

    Why split the backbone: on this CPU a full MiniLM cross-encoder fine-tune learned nothing in
    the time allowed (the design probe, bench/EXPERIMENTS.md), and a head over frozen last-layer states learned little
    stance. Caching the lower layers makes an epoch over the upper ones a few minutes.
    """

    def __init__(self, source: str, frozen_layers: int = FROZEN_LAYERS) -> None:
        import_torch()
        from transformers import AutoModel, AutoTokenizer

        self.source = source
        self.frozen_layers = frozen_layers
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.model = AutoModel.from_pretrained(source, add_pooling_layer=False).eval()
        if not 0 <= frozen_layers < self.model.config.num_hidden_layers:
            raise ValueError(f"frozen_layers={frozen_layers}: the backbone {source} has {self.model.config.num_hidden_layers} layers; keep at least one trainable")
        self._states: dict[str, np.ndarray] = {}
        self._vectors: dict[str, np.ndarray] = {}

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def _fill(self, texts: Sequence[str], batch_size: int = 64) -> None:
        torch = import_torch()
        missing = sorted({t for t in texts if t not in self._states}, key=len)
        progress = Progress("encoding texts (frozen backbone layers)", len(missing), unit="texts") if len(missing) > batch_size else None
        with torch.inference_mode():
            for start in range(0, len(missing), batch_size):
                chunk = missing[start : start + batch_size]
                batch = self.tokenizer(chunk, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
                out = self.model(**batch, output_hidden_states=True)
                lower, last = out.hidden_states[self.frozen_layers].numpy(), out.last_hidden_state.numpy()
                for text, low, high, mask in zip(chunk, lower, last, batch["attention_mask"].numpy().astype(bool)):
                    self._states[text] = low[mask].astype(np.float16)
                    mean = high[mask].mean(axis=0)
                    self._vectors[text] = mean / max(float(np.linalg.norm(mean)), 1e-12)
                if progress:
                    progress.update(advance=len(chunk))

    def encode(self, texts: Sequence[str]) -> list[np.ndarray]:
        """(tokens, dim) float16 lower-layer states per text, special tokens included, padding removed."""
        self._fill(texts)
        return [self._states[t] for t in texts]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(texts, dim) unit sentence embeddings."""
        self._fill(texts)
        return np.stack([self._vectors[t] for t in texts]) if len(texts) else np.zeros((0, self.dim), dtype=np.float32)


def build_cross_encoder(backbone, frozen_layers: int, seed: int):
    """A cross-encoder over cached lower-layer states: the backbone's layers above
    ``frozen_layers`` (copied, trained) read the claim's tokens and the sentence's side by side,
    marked by two learned segment vectors, so every claim token attends to every sentence token
    with the backbone's own pretrained attention; the [CLS] state and the mean state, with
    :data:`FEATURES`, are classified 3-way."""
    import copy

    torch = import_torch()
    nn = torch.nn
    torch.manual_seed(seed)
    dim = int(backbone.config.hidden_size)

    # MPNet-style backbones add a learned relative-position bias to every layer's attention
    # (computed once in the encoder); BERT-style ones (MiniLM) carry positions in the embeddings.
    relative = getattr(backbone.encoder, "relative_attention_bias", None)

    class UpperCrossEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(copy.deepcopy(layer) for layer in backbone.encoder.layer[frozen_layers:])
            self.relative_attention_bias = copy.deepcopy(relative) if relative is not None else None
            self.segment = nn.Parameter(torch.zeros(2, dim))
            self.classify = nn.Sequential(nn.Dropout(0.1), nn.Linear(2 * dim + len(FEATURES), len(LABELS)))

        def _layer_kwargs(self, hidden, additive) -> dict:
            if self.relative_attention_bias is None:
                return {"attention_mask": additive}
            # positions run over the joint sequence, claim first, as if the texts were concatenated
            positions = torch.arange(hidden.shape[1])
            buckets = type(backbone.encoder).relative_position_bucket(positions[None, :] - positions[:, None])
            bias = self.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0)
            return {"attention_mask": additive, "position_bias": bias}

        def upper_layers(self, hidden, additive):
            """The copied backbone layers over a (batch, tokens, dim) sequence; ``additive`` is the attention mask."""
            kwargs = self._layer_kwargs(hidden, additive)
            for layer in self.layers:
                out = layer(hidden, **kwargs)
                hidden = out[0] if isinstance(out, tuple) else out
            return hidden

        def forward(self, states, mask, segments, features):
            hidden = self.upper_layers(states + self.segment[segments], (1.0 - mask)[:, None, None, :] * -1e4)
            mean = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
            return self.classify(torch.cat([hidden[:, 0], mean, features], dim=-1))

        def parameter_groups(self, backbone_learning_rate: float, learning_rate: float) -> list[dict]:
            """The pretrained layers (and the segment vectors) move slowly, the new classifier fast."""
            return [
                {"params": [p for name, p in self.named_parameters() if not name.startswith("classify.")], "lr": backbone_learning_rate},
                {"params": list(self.classify.parameters()), "lr": learning_rate},
            ]

    return UpperCrossEncoder()


def collate(claims: Sequence[np.ndarray], sentences: Sequence[np.ndarray], features: Sequence[Sequence[float]]):
    """Padded joint sequences (claim tokens, then the sentence's without its [CLS]), their mask,
    segment ids and the pair features, as tensors."""
    torch = import_torch()
    joined = [np.concatenate([c, s[1:]]) for c, s in zip(claims, sentences)]
    longest, dim = max(len(j) for j in joined), joined[0].shape[1]
    states = np.zeros((len(joined), longest, dim), dtype=np.float32)
    mask = np.zeros((len(joined), longest), dtype=np.float32)
    segments = np.zeros((len(joined), longest), dtype=np.int64)
    for i, (j, c) in enumerate(zip(joined, claims)):
        states[i, : len(j)], mask[i, : len(j)], segments[i, len(c) : len(j)] = j, 1.0, 1
    return torch.from_numpy(states), torch.from_numpy(mask), torch.from_numpy(segments), torch.tensor(np.asarray(features, dtype=np.float32))


@dataclass
class PairInputs:
    """Everything the cross-encoder reads for a list of (claim, sentence) pairs."""

    claims: list[np.ndarray]
    sentences: list[np.ndarray]
    features: list[list[float]]

    @classmethod
    def build(cls, encoder: TokenEncoder, pairs: Sequence[tuple[str, str]]) -> "PairInputs":
        claim_texts, sentence_texts = [c for c, _ in pairs], [s for _, s in pairs]
        cosines = (encoder.embed(claim_texts) * encoder.embed(sentence_texts)).sum(axis=1)
        features = [pair_features(c, s, float(cos)) for (c, s), cos in zip(pairs, cosines)]
        return cls(encoder.encode(claim_texts), encoder.encode(sentence_texts), features)

    def lengths(self) -> np.ndarray:
        """Joint sequence length per pair (for batching pairs of similar length)."""
        return np.array([len(c) + len(s) - 1 for c, s in zip(self.claims, self.sentences)])

    def batch(self, index: Sequence[int]):
        return collate([self.claims[i] for i in index], [self.sentences[i] for i in index], [self.features[i] for i in index])


def head_logits(head, inputs: PairInputs, *, batch_size: int = 128) -> np.ndarray:
    """Logits per pair, in batches of pairs of similar length (less padding)."""
    torch = import_torch()
    head.eval()
    out = np.zeros((len(inputs.claims), len(LABELS)), dtype=np.float32)
    order = np.argsort(inputs.lengths(), kind="stable")
    progress = Progress("scoring pairs (cross-encoder)", len(out), unit="pairs") if len(out) > batch_size else None
    with torch.inference_mode():
        for start in range(0, len(out), batch_size):
            index = order[start : start + batch_size].tolist()
            out[index] = head(*inputs.batch(index)).numpy()
            if progress:
                progress.update(advance=len(index))
    return out


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sentence_outputs(head, token_encoder: TokenEncoder, temperature: float, pairs: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Per (claim, sentence): temperature-scaled class probabilities (columns in ``LABELS``
    order) and the backbone's sentence-embedding cosine."""
    if not pairs:
        return np.zeros((0, len(LABELS))), np.zeros(0)
    inputs = PairInputs.build(token_encoder, pairs)
    return softmax(head_logits(head, inputs), temperature), np.array([f[0] for f in inputs.features])


def backbone_source(backbone: str, settings: Settings) -> str:
    """Where a catalog backbone's weights are here (package, local folder or hub)."""
    from litsynth.config import ConfigError
    from litsynth.models.text_encoder import resolve_weights

    catalog = settings.catalog()
    spec = catalog.get(backbone)
    if spec.family != "sentence-transformers":
        usable = [m.id for m in catalog.models if m.family == "sentence-transformers"]
        raise ConfigError(f"verifier backbone {backbone!r} is a {spec.family} model, not a transformer text encoder. Fix: set verifier.backbone to one of {usable}")
    return resolve_weights(spec, settings.project_root)[0]


CURRENT_CARD_KEYS = ("selector", "stance", "cross_encoder", "rationale", "weights_sha256")  # what a card of the current training recipe holds


def rationale_scores(probabilities: np.ndarray, cosines: np.ndarray, cosine_weight: float) -> np.ndarray:
    """How likely each sentence of a passage is the rationale: the head's P(evidence) plus
    ``cosine_weight`` times the backbone's claim-sentence cosine. The head alone ranks the
    gold rationale first on fewer abstracts than the cosine does (measured on development
    claims); the sum beats both, so training picks the weight there."""
    return 1.0 - probabilities[:, LABELS.index(NEI)] + cosine_weight * cosines


def card_problem(card: dict) -> str | None:
    """Why a model card cannot be loaded by this version of the code (an older recipe), or None."""
    missing = [key for key in CURRENT_CARD_KEYS if key not in card]
    if missing:
        return f"no {', '.join(map(repr, missing))}"
    features = card["selector"].get("features")
    if features != list(SELECTOR_FEATURES):
        return f"its evidence selector reads {features}, this version reads {list(SELECTOR_FEATURES)}"
    return None


@dataclass
class TrainedVerifier:
    """A saved model version (``<model_dir>/<version>/``): the trained upper layers and
    classifier as safetensors and ``card.json`` (backbone, temperature, evidence selector). The
    frozen lower layers are loaded from the model catalog and checked against the weights hash
    recorded at training time."""

    path: Path
    settings: Settings | None = None  # the catalog that names the backbone; not needed with a token_encoder
    token_encoder: TokenEncoder | None = None  # share one to reuse its cached states
    name: str = "trained"

    def __post_init__(self) -> None:
        from safetensors.torch import load_file

        self.path = Path(self.path)
        self.card = json.loads((self.path / CARD_FILE).read_text(encoding="utf-8"))
        self.temperature = float(self.card["calibration"]["temperature"])
        problem = card_problem(self.card)
        if problem:
            raise ValueError(f"{self.path / CARD_FILE}: {problem} (a model of an older recipe); retrain the verifier")
        tampered = weights_problem(self.path, self.card)
        if tampered:
            raise ValueError(tampered)
        recorded = self.card["selector"]
        self.selector = EvidenceSelector(tuple(recorded["weights"]), float(recorded["bias"]), float(recorded["threshold"]))
        self.gate = self.selector.gate(float(self.card["stance"]["contradiction_share"]))
        self.rationale_cosine_weight = float(self.card["rationale"]["cosine_weight"])
        backbone = self.card["backbone"]
        frozen_layers = int(backbone["frozen_layers"])
        if self.token_encoder is None:
            if self.settings is None:
                raise ValueError(f"{self.path}: give the settings (their catalog names backbone {backbone['id']!r}) or a token encoder")
            self.token_encoder = TokenEncoder(backbone_source(backbone["id"], self.settings), frozen_layers)
        if self.token_encoder.frozen_layers != frozen_layers:
            raise ValueError(f"{self.path}: trained over {frozen_layers} frozen layers, the given token encoder caches {self.token_encoder.frozen_layers}")
        found = weights_hash(self.token_encoder.source)
        if found != backbone["weights_sha256"]:
            raise ValueError(f"{self.path}: backbone {backbone['id']} weights differ from training ({found[:12]} != {backbone['weights_sha256'][:12]}); retrain the verifier")
        self.head = build_cross_encoder(self.token_encoder.model, frozen_layers, seed=0)
        self.head.load_state_dict({k: v.float() for k, v in load_file(str(self.path / MODEL_FILE)).items()})
        self.head.eval()

    @property
    def version(self) -> str:
        return self.card["version"]

    def predict(self, claims: list[str], evidence: list[str], retrieval: list[RetrievalSignal]) -> list[Verdict]:
        _check_lengths(claims, evidence, retrieval)
        spans = [_spans(text) for text in evidence]
        pairs = [(claim, text[s:e]) for claim, text, pair_spans in zip(claims, evidence, spans) for s, e in pair_spans]
        probabilities, cosines = sentence_outputs(self.head, self.token_encoder, self.temperature, pairs)
        verdicts, offset = [], 0
        for signal, pair_spans in zip(retrieval, spans):
            window = slice(offset, offset + len(pair_spans))
            offset += len(pair_spans)
            verdicts.append(self._passage_verdict(probabilities[window], cosines[window], pair_spans, signal))
        return verdicts

    def _passage_verdict(self, p: np.ndarray, cosines: np.ndarray, spans: list[tuple[int, int]], signal: RetrievalSignal) -> Verdict:
        """P(evidence) from the selector; stance from the head on the sentences it finds most
        evidential, weighted by their P(evidence); the label by :attr:`gate` (the selector's
        threshold and the contradiction share). The rationale shown is chosen apart, by
        :func:`rationale_scores`: on SciFact validation, reading the stance off those sentences
        instead cost label accuracy, while naming them as the rationale found more gold ones."""
        evidence = 1.0 - p[:, LABELS.index(NEI)]
        stance_from = _best_sentences(evidence, evidence)
        support = float((evidence[stance_from] * p[stance_from, 0]).sum())
        contradict = float((evidence[stance_from] * p[stance_from, 1]).sum())
        share = contradict / (support + contradict) if support + contradict > 0 else 0.5
        p_evidence = self.selector.probability(signal, float(cosines.max()))
        probabilities = _stance_split(p_evidence, share)
        rationale = _best_sentences(rationale_scores(p, cosines, self.rationale_cosine_weight), evidence)
        return _verdict(self.gate.label(probabilities, signal), probabilities, tuple(spans[i] for i in rationale))


def _best_sentences(scores: np.ndarray, evidence: np.ndarray) -> list[int]:
    """The best-scoring sentence, then up to two more by score whose P(evidence) clears
    :data:`RATIONALE_MIN_PROBABILITY`."""
    order = np.argsort(-scores, kind="stable")
    return [int(order[0])] + [int(i) for i in order[1:MAX_RATIONALE_SENTENCES] if evidence[i] >= RATIONALE_MIN_PROBABILITY]


def weights_hash(source: str) -> str:
    """sha256 of a backbone folder's weight file(s), so a loaded head meets the states it was trained on."""
    files = sorted(Path(source).glob("*.safetensors")) or sorted(Path(source).glob("*.bin"))
    return sha256_hex(b"".join(f.read_bytes() for f in files))


def recorded_f1(card: dict, verifier: str) -> float:
    """Abstract-level label-only F1 on the validation split, as recorded in a model card."""
    return float(card["validation"][verifier]["abstract_label_only"]["f1"])


def weights_problem(folder: Path, card: dict) -> str | None:
    """Why a version's weights file is not the one its card was measured with (sha256), or None."""
    path = Path(folder) / MODEL_FILE
    if not path.is_file():
        return f"{path}: missing; retrain the verifier or restore the file"
    found = sha256_hex(path.read_bytes())
    if found != card.get("weights_sha256"):
        return f"{path}: sha256 {found[:12]} does not match its card's {str(card.get('weights_sha256'))[:12]}; the weights were changed after validation. Fix: restore the file or retrain the verifier"
    return None


@dataclass(frozen=True)
class Choice:
    verifier: Verifier
    reason: str


def choose_verifier(settings: Settings, encoder: Encoder, folders: Sequence[Path] | None = None) -> Choice:
    """Among the versions in ``folders`` (default: those trained here, ``verifier.model_dir``,
    and those shipped with the project, ``verifier.shipped_dir``), the one with the best recorded
    validation F1, if it beats the baseline's (measured on the same validation claims, recorded
    in the same card); else the baseline. Versions of an older recipe and versions whose weights
    do not match their card's hash are passed over, and the reason says so."""
    if folders is None:
        folders = [settings.path(settings.verifier.model_dir), settings.shipped_verifier_dir]
    folders = [Path(f) for f in folders]
    cards = [(json.loads(p.read_text(encoding="utf-8")), p.parent) for folder in folders for p in sorted(folder.glob(f"*/{CARD_FILE}"))]
    scored, refused = [], []
    for card, path in cards:
        if "validation" not in card or card_problem(card):
            continue
        problem = weights_problem(path, card)
        if problem:
            refused.append(problem)
        else:
            scored.append((recorded_f1(card, "trained"), recorded_f1(card, "baseline"), path))
    passed_over = f" (refused: {'; '.join(refused)})" if refused else ""
    if not scored:
        return Choice(BaselineVerifier(encoder), f"no trained model with validation metrics in {' or '.join(map(str, folders))}{passed_over}")
    trained_f1, baseline_f1, path = max(scored, key=lambda row: row[0])
    if trained_f1 > baseline_f1:
        return Choice(TrainedVerifier(path, settings), f"trained {path.name} ({path.parent}): validation F1 {trained_f1:.3f} > baseline {baseline_f1:.3f}{passed_over}")
    return Choice(BaselineVerifier(encoder), f"baseline: trained {path.name} validation F1 {trained_f1:.3f} does not beat baseline {baseline_f1:.3f}{passed_over}")
