"""Evidence for a claim from *other* papers, and whether a claim is faithful to its own source.

Retrieval (:class:`EvidenceRetriever`): BM25 (DuckDB fts) and dense cosine (a catalog text
encoder) rank the passages, reciprocal-rank fusion (k = 60) combines them. Passages of
``exclude_paper_id`` are removed *before* ranking, so a paper never verifies its own claim
and never takes a rank away from independent evidence. Each hit also says how much of the
claim it mentions (:class:`TermWeights`: the IDF-weighted share of the claim's content terms,
in the passage and in its best sentence): an on-topic passage that never names the claim's
specific entity is rarely evidence for it.

Stance cues shared by grounding, the baseline verifier and training augmentation: negation
words, up/down direction words (one vocabulary of antonym pairs), and numbers parsed by
:func:`litsynth.claims.parse_quantities`.

Grounding rule (:func:`grounding`), checking a claim against the passage it was extracted from:

1. the claim, case- and whitespace-normalised, is a substring of the source: ``faithful``
   (score 1.0);
2. otherwise score = the best cosine between the claim and a source sentence, and the claim is
   ``paraphrased`` when score >= ``PARAPHRASE_MIN_SIMILARITY``, every number of the claim
   occurs in the source, and the claim and its best sentence agree on negation;
3. else ``unfaithful`` (an invented number or a flipped negation is never a paraphrase).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from litsynth.claims import content_terms, parse_quantities
from litsynth.embeddings import Encoder
from litsynth.retrieval.bm25 import BM25Index, BM25Params
from litsynth.retrieval.fusion import ranks, reciprocal_rank_fusion
from litsynth.text import split_sentences

CANDIDATES = 100  # per ranker, before fusion
EVIDENCE_K = 3  # passages (or abstracts) a claim is verified against
PARAPHRASE_MIN_SIMILARITY = 0.70  # MiniLM cosine: reworded sentences score ~0.8-0.95, a different finding on the same topic ~0.4-0.65
NUMBER_TOLERANCE = 0.005  # relative: "0.43" and "43%" are not merged, "12.0" and "12" are equal

# --- stance cues --------------------------------------------------------------------------

NEGATION = re.compile(
    r"\b(?:not|no|never|none|neither|nor|cannot|without|absence of|lack(?:s|ed|ing)?|"
    r"fail(?:s|ed)? to|unable to|\w+n't)\b",
    re.IGNORECASE,
)
# (up, down) word forms: a direction cue each, and the swaps that negate a claim in training.
DIRECTION_PAIRS = (
    ("increase", "decrease"), ("increases", "decreases"), ("increased", "decreased"),
    ("increasing", "decreasing"), ("higher", "lower"), ("more", "less"), ("greater", "smaller"),
    ("raises", "lowers"), ("elevated", "reduced"), ("enhances", "impairs"), ("enhanced", "impaired"),
    ("promotes", "inhibits"), ("promote", "inhibit"), ("activates", "suppresses"),
    ("upregulates", "downregulates"), ("upregulated", "downregulated"), ("positive", "negative"),
    ("positively", "negatively"), ("improves", "worsens"), ("improved", "worsened"),
    ("gain", "loss"), ("accelerates", "delays"), ("above", "below"), ("longer", "shorter"),
    ("increases", "reduces"), ("increase", "reduce"), ("increased", "reduced"), ("promotes", "impedes"),
    ("induces", "prevents"), ("risk", "protection"),
)
_UP = {up for up, _ in DIRECTION_PAIRS}
_DOWN = {down for _, down in DIRECTION_PAIRS} | {"reduction", "decline", "declines"}
_WORDS = re.compile(r"[a-z]+(?:-[a-z]+)*")


def is_negated(text: str) -> bool:
    """Whether the text carries a negation cue ("not", "no", "fails to", "n't", ...)."""
    return NEGATION.search(text) is not None


def directions(text: str) -> set[int]:
    """+1 for an upward cue ("increases", "higher"), -1 for a downward one; both when mixed."""
    words = set(_WORDS.findall(text.lower()))
    return {d for d, cues in ((1, _UP), (-1, _DOWN)) if words & cues}


def direction_conflict(claim: str, evidence: str) -> bool:
    """The claim moves one way only and the evidence only the other way."""
    c, e = directions(claim), directions(evidence)
    return len(c) == 1 and len(e) == 1 and c != e


def _same_number(a: float, b: float) -> bool:
    return abs(a - b) <= NUMBER_TOLERANCE * max(abs(a), abs(b), 1e-9)


def _measured(text: str) -> dict[tuple[str | None, str | None], list[float]]:
    """Values of the numbers that name a metric or unit, keyed by (metric, unit)."""
    values: dict[tuple[str | None, str | None], list[float]] = {}
    for q in parse_quantities(text):
        if q.metric or q.unit:
            values.setdefault(((q.metric or "").lower() or None, q.unit), []).append(q.value)
    return values


def numeric_conflict(claim: str, evidence: str) -> bool:
    """Same metric or unit in both, and none of the evidence's values equals the claim's."""
    evidence_values = _measured(evidence)
    return any(
        key in evidence_values and not any(_same_number(v, e) for v in values for e in evidence_values[key])
        for key, values in _measured(claim).items()
    )


def missing_numbers(claim: str, source: str) -> list[float]:
    """Numbers of the claim that the source never states (a hallucinated figure)."""
    stated = [q.value for q in parse_quantities(source)]
    return [q.value for q in parse_quantities(claim) if not any(_same_number(q.value, s) for s in stated)]


# --- retrieval ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Passage:
    passage_id: str
    paper_id: str
    text: str


class TermWeights:
    """Inverse document frequencies of content terms (:func:`litsynth.claims.content_terms`)
    over the searched passages, so a claim's rare terms (a gene, a named method) weigh more than
    its common ones when measuring how much of the claim a text mentions."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._documents = 0
        self._frequency: Counter[str] = Counter()
        for text in texts:
            self._documents += 1
            self._frequency.update(content_terms(text))

    def idf(self, term: str) -> float:
        """log((N + 1) / (df + 1)): a term no passage holds weighs most."""
        return math.log((self._documents + 1) / (self._frequency[term] + 1))

    def coverage(self, claim: str, texts: Sequence[str]) -> list[float]:
        """Per text, the IDF-weighted share of the claim's content terms it contains, in [0, 1]."""
        wanted = {term: self.idf(term) for term in content_terms(claim)}
        total = sum(wanted.values())
        if total <= 0:
            return [0.0] * len(texts)
        return [sum(wanted[t] for t in wanted.keys() & content_terms(text)) / total for text in texts]


@dataclass(frozen=True)
class Hit:
    """One retrieved passage: fused RRF score and rank, each ranker's own score, and how much
    of the claim the passage and its best sentence mention (:meth:`TermWeights.coverage`)."""

    passage: Passage
    score: float
    rank: int
    bm25: float | None  # None: no query term in the passage
    dense: float  # cosine of claim and passage
    term_coverage: float  # IDF-weighted share of the claim's content terms in the passage
    sentence_term_coverage: float  # the same in the passage's best sentence


class EvidenceRetriever:
    """Hybrid (BM25 + dense, RRF) search over passages, never returning the claim's own paper."""

    def __init__(
        self,
        passages: Sequence[Passage],
        encoder: Encoder,
        *,
        passage_vectors: np.ndarray | None = None,
        bm25_params: BM25Params = BM25Params(),
    ) -> None:
        ids = [p.passage_id for p in passages]
        if len(set(ids)) != len(ids):
            raise ValueError("passage ids must be unique")
        self.passages = list(passages)
        self.encoder = encoder
        vectors = encoder.encode([p.text for p in passages]) if passage_vectors is None else passage_vectors
        if vectors.shape[0] != len(passages):
            raise ValueError(f"{vectors.shape[0]} passage vectors for {len(passages)} passages")
        self._vectors = np.asarray(vectors, dtype=np.float32)
        self._paper_ids = np.array([p.paper_id for p in passages], dtype=object)
        self._bm25 = BM25Index([(p.passage_id, p.text) for p in passages], bm25_params)
        self._index = {pid: i for i, pid in enumerate(ids)}
        self.term_weights = TermWeights(p.text for p in passages)

    def search(self, claim_text: str, *, exclude_paper_id: str | None, k: int = EVIDENCE_K, query: np.ndarray | None = None) -> list[Hit]:
        """The ``k`` best passages, fused rank first; ``exclude_paper_id`` None excludes nothing.
        ``query`` is the claim's query vector when the caller has encoded it already."""
        allowed = self._paper_ids != exclude_paper_id
        n_excluded = int((~allowed).sum())
        if query is None:
            query = self.encoder.encode([claim_text], is_query=True)[0]
        cosine = self._vectors @ query
        order = np.argsort(-np.where(allowed, cosine, -np.inf), kind="stable")[: min(CANDIDATES, int(allowed.sum()))]
        dense = {self.passages[i].passage_id: float(cosine[i]) for i in order}
        bm25 = {
            pid: score
            for pid, score in self._bm25.search(claim_text, top_k=CANDIDATES + n_excluded)
            if allowed[self._index[pid]]
        }
        fused = reciprocal_rank_fusion([ranks(bm25), ranks(dense)])
        best = sorted(ranks(fused).items(), key=lambda item: item[1])[:k]
        hits = []
        for pid, rank in best:
            passage = self.passages[self._index[pid]]
            whole, *per_sentence = self.term_weights.coverage(claim_text, [passage.text, *sentence_texts(passage.text)])
            hits.append(Hit(passage, fused[pid], rank, bm25.get(pid), float(cosine[self._index[pid]]), whole, max(per_sentence)))
        return hits

    def search_many(self, claims: Sequence[tuple[str, str | None]], *, k: int = EVIDENCE_K) -> list[list[Hit]]:
        """:meth:`search` for many (claim text, paper id to exclude) at once: the claims are
        encoded in one batch, which is most of the time on CPU."""
        if not claims:
            return []
        queries = self.encoder.encode([text for text, _ in claims], is_query=True)
        return [self.search(text, exclude_paper_id=paper, k=k, query=q) for (text, paper), q in zip(claims, queries)]

    def close(self) -> None:
        self._bm25.close()


# --- grounding ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Grounding:
    verdict: Literal["faithful", "paraphrased", "unfaithful"]
    score: float
    reason: str


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def sentence_texts(text: str) -> list[str]:
    """The sentences of a passage (litsynth.text rules), the whole text when it has none."""
    return [text[s:e] for s, e in split_sentences(text)] or [text]


def grounding(claim_text: str, source_text: str, encoder: Encoder) -> Grounding:
    """Whether a claim says what its source passage says (rule: module docstring)."""
    if _normalised(claim_text) in _normalised(source_text):
        return Grounding("faithful", 1.0, "the claim is a verbatim span of the source")
    sentences = sentence_texts(source_text)
    vectors = encoder.encode([claim_text, *sentences])
    similarities = vectors[1:] @ vectors[0]
    best = int(np.argmax(similarities))
    score = float(similarities[best])
    missing = missing_numbers(claim_text, source_text)
    if missing:
        return Grounding("unfaithful", score, f"numbers not in the source: {missing}")
    if is_negated(claim_text) != is_negated(sentences[best]):
        return Grounding("unfaithful", score, "negation differs from the closest source sentence")
    if score >= PARAPHRASE_MIN_SIMILARITY:
        return Grounding("paraphrased", score, f"closest source sentence at cosine {score:.2f}")
    return Grounding("unfaithful", score, f"closest source sentence only at cosine {score:.2f} < {PARAPHRASE_MIN_SIMILARITY}")
