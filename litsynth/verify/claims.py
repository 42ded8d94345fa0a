"""Verify a question's claims against passages of other papers: rows of ``verifications``.

Each claim gets the top hybrid-retrieved passages of the question's corpus, its own paper
excluded; the verifier labels each (claim, passage) pair, and the claim takes the most
confident decisive verdict (supported or contradicted), else "not enough evidence" with the
closest passage shown. Grounding checks the claim against its own source chunk separately.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from litsynth.verify.evidence import EvidenceRetriever, grounding
from litsynth.verify.verifiers import RetrievalSignal, Verdict, Verifier

EVIDENCE_K = 3
VERIFICATION_SCHEMA = {
    "question_id": pl.Utf8,
    "claim_id": pl.Utf8,
    "verifier": pl.Utf8,
    "label": pl.Utf8,
    "confidence": pl.Float64,
    "evidence_paper_id": pl.Utf8,
    "evidence_chunk_id": pl.Utf8,
    "evidence_text": pl.Utf8,
    "evidence_score": pl.Float64,
    "evidence_candidates": pl.Int32,
    "grounding": pl.Utf8,
    "grounding_score": pl.Float64,
}


@dataclass(frozen=True)
class ClaimToVerify:
    claim_id: str
    paper_id: str
    text: str
    source_text: str  # the claim's own chunk


def _shown(text: str, verdict: Verdict) -> str:
    """The rationale sentences the verifier used, else the whole passage."""
    return " ".join(text[s:e] for s, e in verdict.rationale) if verdict.rationale else text


def verify_claims(
    question_id: str,
    claims: Sequence[ClaimToVerify],
    retriever: EvidenceRetriever,
    verifier: Verifier,
    encoder,
    *,
    verifier_name: str,
    k: int = EVIDENCE_K,
) -> pl.DataFrame:
    rows = []
    for claim in claims:
        hits = retriever.search(claim.text, exclude_paper_id=claim.paper_id, k=k)
        candidates = sum(1 for p in retriever.passages if p.paper_id != claim.paper_id)
        grounded = grounding(claim.text, claim.source_text, encoder)
        row = {
            "question_id": question_id,
            "claim_id": claim.claim_id,
            "verifier": verifier_name,
            "label": "not_enough_evidence",
            "confidence": 1.0,
            "evidence_paper_id": None,
            "evidence_chunk_id": None,
            "evidence_text": None,
            "evidence_score": None,
            "evidence_candidates": candidates,
            "grounding": grounded.verdict,
            "grounding_score": grounded.score,
        }
        if hits:
            verdicts = verifier.predict([claim.text] * len(hits), [h.passage.text for h in hits], RetrievalSignal.from_hits(hits))
            decisive = [(v, h) for v, h in zip(verdicts, hits) if v.label != "not_enough_evidence"]
            verdict, hit = max(decisive, key=lambda vh: vh[0].confidence) if decisive else (verdicts[0], hits[0])
            row.update(
                label=verdict.label,
                confidence=verdict.confidence,
                evidence_paper_id=hit.passage.paper_id,
                evidence_chunk_id=hit.passage.passage_id,
                evidence_text=_shown(hit.passage.text, verdict),
                evidence_score=hit.dense,
            )
        rows.append(row)
    return pl.DataFrame(rows, schema=VERIFICATION_SCHEMA)
