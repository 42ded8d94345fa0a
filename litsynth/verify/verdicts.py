"""Verify a question's claims against passages of other papers: rows of ``verifications``.

Each claim gets the top hybrid-retrieved passages of the question's corpus, its own paper
excluded; the verifier labels each (claim, passage) pair. A decisive verdict (supported or
contradicted) counts only when the passage may bear on the claim's subject
(:func:`litsynth.entities.evidence_about`: a claim about a specific system needs evidence on
that system, a general claim evidence sentences that state a finding), and the claim takes the most confident one that counts. Otherwise the label is
"not enough evidence" with the closest passage shown (the set-aside one when the verifier was
decisive about another system) and its confidence is that passage's P(not enough evidence).
Every row says why (``reason``). Grounding checks the claim against its own source separately.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from litsynth.entities import ClaimSubject, evidence_about, passage_systems
from litsynth.progress import Progress
from litsynth.verify.evidence import EVIDENCE_K, EvidenceRetriever, grounding
from litsynth.verify.verifiers import RetrievalSignal, Verdict, Verifier
from litsynth.warehouse import frame_schema

VERIFICATION_SCHEMA = frame_schema("verifications")


@dataclass(frozen=True)
class ClaimToVerify:
    claim_id: str
    paper_id: str
    text: str
    source_text: str  # the claim's own chunk
    subject: ClaimSubject


def _sentences(text: str, verdict: Verdict) -> list[str]:
    """The rationale sentences the verifier used, else the whole passage."""
    return [text[s:e] for s, e in verdict.rationale] if verdict.rationale else [text]


def _shown(text: str, verdict: Verdict) -> str:
    return " ".join(_sentences(text, verdict))


CLAIMS_PER_BATCH = 16  # claims whose (claim, passage) pairs go to the verifier in one call


def _predict_in_blocks(verifier: Verifier, claims: Sequence[ClaimToVerify], hits_per_claim: Sequence[Sequence]) -> list[list[Verdict]]:
    """The verifier's verdict on every (claim, hit), many claims per call (batched on CPU), with
    progress; retrieval signals are still computed per claim (they compare a claim's hits)."""
    counter = Progress("verifying claims", len(claims), unit="claims")
    verdicts: list[list[Verdict]] = []
    for start in range(0, len(claims), CLAIMS_PER_BATCH):
        block = list(zip(claims[start : start + CLAIMS_PER_BATCH], hits_per_claim[start : start + CLAIMS_PER_BATCH]))
        texts = [claim.text for claim, hits in block for _ in hits]
        passages = [h.passage.text for _, hits in block for h in hits]
        signals = [signal for _, hits in block for signal in RetrievalSignal.from_hits(hits)]
        flat = verifier.predict(texts, passages, signals) if texts else []
        offset = 0
        for _, hits in block:
            verdicts.append(list(flat[offset : offset + len(hits)]))
            offset += len(hits)
        counter.update(start + len(block))
    return verdicts


def verify_claims(
    question_id: str,
    claims: Sequence[ClaimToVerify],
    retriever: EvidenceRetriever,
    verifier: Verifier,
    encoder,
    *,
    verifier_name: str,
    paper_systems: Mapping[str, Sequence[str]],
    k: int = EVIDENCE_K,
) -> pl.DataFrame:
    """One verifications row per claim; ``paper_systems`` maps each paper to its own systems
    (:func:`litsynth.entities.own_systems`), so a passage saying "we" is read as about them."""
    known = sorted({s for systems in paper_systems.values() for s in systems})
    about: dict[str, set[str]] = {}

    def systems_of(passage) -> set[str]:
        if passage.passage_id not in about:
            about[passage.passage_id] = passage_systems(passage.text, paper_systems.get(passage.paper_id, ()), known)
        return about[passage.passage_id]

    hits_per_claim = retriever.search_many([(c.text, c.paper_id) for c in claims], k=k)
    verdicts_per_claim = _predict_in_blocks(verifier, claims, hits_per_claim)
    rows = []
    for claim, hits, verdicts in zip(claims, hits_per_claim, verdicts_per_claim):
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
            "claim_scope": claim.subject.scope,
            "reason": "no passage of another paper was retrieved",
        }
        if hits:
            judged = [
                (v, h, *evidence_about(claim.subject, systems_of(h.passage), _sentences(h.passage.text, v)))
                for v, h in zip(verdicts, hits)
            ]
            counted = [(v, h, why) for v, h, ok, why in judged if ok and v.label != "not_enough_evidence"]
            set_aside = [(v, h, why) for v, h, ok, why in judged if not ok and v.label != "not_enough_evidence"]
            if counted:
                verdict, hit, why = max(counted, key=lambda vhw: vhw[0].confidence)
                label, confidence = verdict.label, verdict.confidence
                reason = f"{verdict.label} by the verifier; {why}"
            elif set_aside:
                verdict, hit, why = max(set_aside, key=lambda vhw: vhw[0].confidence)
                label, confidence = "not_enough_evidence", verdict.probabilities["not_enough_evidence"]
                reason = f"the verifier read this passage as {verdict.label}, set aside: {why}"
            else:
                verdict, hit = verdicts[0], hits[0]
                label, confidence = verdict.label, verdict.confidence
                reason = f"none of the {len(hits)} passages retrieved from other papers is decisive for the verifier"
            row.update(
                label=label,
                confidence=confidence,
                evidence_paper_id=hit.passage.paper_id,
                evidence_chunk_id=hit.passage.passage_id,
                evidence_text=_shown(hit.passage.text, verdict),
                evidence_score=hit.dense,
                reason=reason,
            )
        rows.append(row)
    return pl.DataFrame(rows, schema=VERIFICATION_SCHEMA)
