"""Relations between claims of different papers: rows of ``claim_relations``.

From the figures claims state (:func:`figure_relations`): a *figure* is a parsed quantity with
a metric and a dataset (:func:`litsynth.claims.parse_quantities`) that is an absolute value,
not a change ("improves R@1 by 3.2", "+4.1", "2x faster" are changes; "from 23.8 to 24.3"
reads as 24.3). Its system is the model named with it, else the claim's one subject system
(:mod:`litsynth.entities`; "our method" resolved to its paper's system). Two figures of
different papers on the same metric and dataset (names compared by
:func:`litsynth.entities.canonical_key`), with the same unit:

- same system, equal values (relative difference <= ``NUMBER_TOLERANCE``): ``corroborates``;
- same system, different values: ``conflicts`` (two papers report different figures);
- different or unknown systems, different values: ``same_benchmark_different_results``.

The score of a figure relation is the relative difference |a - b| / max(|a|, |b|).

From verdicts (:func:`verdict_relations`): a supported (contradicted) claim ``corroborates``
(``conflicts`` with) the claims of the evidence paper that are among the evidence sentences
the verifier names; the score is the verdict's confidence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from litsynth.claims import Quantity, parse_quantities
from litsynth.entities import ClaimSubject, canonical_key, entity_key
from litsynth.ids import content_id
from litsynth.warehouse import frame_schema

NUMBER_TOLERANCE = 0.005  # relative; the same tolerance as the verifier's number cues
_CHANGE_BEFORE = re.compile(
    r"\b(?:by|gains?|improvements?|increases?|drops?|boosts?)\s+(?:of\s+)?"
    r"(?:up to|about|around|over|nearly|approximately|roughly|an average of|average)?\s*$",
    re.IGNORECASE,
)
_CHANGE_AFTER = re.compile(
    r"^\s*(?:%|percent|points?)?\s*(?:absolute\s+|relative\s+|average\s+)?"
    r"(?:improvements?|gains?|increases?|higher|lower|better|worse|drops?|boosts?|more|less)\b",
    re.IGNORECASE,
)
RELATION_SCHEMA = frame_schema("claim_relations")


@dataclass(frozen=True)
class RelationClaim:
    claim_id: str
    paper_id: str
    text: str
    subject: ClaimSubject


@dataclass(frozen=True)
class Figure:
    claim: RelationClaim
    system: str | None
    dataset: str
    metric: str
    unit: str | None
    value: float
    raw: str

    @property
    def benchmark_key(self) -> tuple[str, str, str | None]:
        return canonical_key("dataset", self.dataset), canonical_key("metric", self.metric), self.unit


def is_change(sentence: str, q: Quantity) -> bool:
    """The number states a change (a gain, a drop, a speed-up), not a level."""
    if q.from_value is not None:
        return False
    return (
        q.raw[:1] in "+-−±" or q.unit == "x"
        or _CHANGE_BEFORE.search(sentence[: q.start]) is not None
        or _CHANGE_AFTER.match(sentence[q.end :]) is not None
    )


def figures(claim: RelationClaim) -> list[Figure]:
    """The absolute figures a claim states, each with its system where one is known."""
    subject = claim.subject.systems[0] if claim.subject.is_specific and len(claim.subject.systems) == 1 else None
    return [
        Figure(claim, q.model or subject, q.dataset, q.metric, q.unit, q.value, q.raw)
        for q in parse_quantities(claim.text)
        if q.metric and q.dataset and not q.counted and not is_change(claim.text, q)
    ]


def _row(question_id: str, a: Figure | RelationClaim, b_claim_id: str, relation: str, basis: str, **fields) -> dict:
    claim_id = a.claim.claim_id if isinstance(a, Figure) else a.claim_id
    return {
        "question_id": question_id,
        "relation_id": content_id(claim_id, b_claim_id, relation, basis, fields.get("metric"), fields.get("benchmark")),
        "claim_id": claim_id,
        "other_claim_id": b_claim_id,
        "relation": relation,
        "basis": basis,
        **{k: None for k in ("shared_entity", "benchmark", "metric", "claim_quantity", "other_quantity")},
        **fields,
    }


def figure_relations(question_id: str, claims: Sequence[RelationClaim]) -> list[dict]:
    """Relations between the figures of claims of different papers (rules: module docstring)."""
    by_benchmark: dict[tuple, list[Figure]] = {}
    for claim in claims:
        for figure in figures(claim):
            by_benchmark.setdefault(figure.benchmark_key, []).append(figure)
    rows: dict[str, dict] = {}
    for group in by_benchmark.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if a.claim.paper_id == b.claim.paper_id:
                    continue
                a, b = sorted((a, b), key=lambda f: f.claim.claim_id)
                difference = abs(a.value - b.value) / max(abs(a.value), abs(b.value), 1e-9)
                same_system = a.system is not None and b.system is not None and entity_key(a.system) == entity_key(b.system)
                if difference <= NUMBER_TOLERANCE and not same_system:
                    continue  # equal figures of unrelated systems say nothing about each other
                relation = ("corroborates" if difference <= NUMBER_TOLERANCE else "conflicts") if same_system else "same_benchmark_different_results"
                row = _row(
                    question_id, a, b.claim.claim_id, relation, "figures",
                    shared_entity=a.system if same_system else None, benchmark=a.dataset, metric=a.metric,
                    claim_quantity=f"{a.system or 'unnamed system'}: {a.raw}", other_quantity=f"{b.system or 'unnamed system'}: {b.raw}",
                    score=difference,
                )
                rows.setdefault(row["relation_id"], row)
    return list(rows.values())


def verdict_relations(
    question_id: str,
    claims: Sequence[RelationClaim],
    verdicts: Sequence[Mapping],
    claims_in_chunk: Mapping[str, Sequence[str]],
) -> list[dict]:
    """A decisive verdict relates its claim to the evidence paper's claims among its evidence sentences.

    ``verdicts`` rows carry claim_id, label, confidence, evidence_chunk_id, evidence_text;
    ``claims_in_chunk`` maps a chunk to the claims extracted from it.
    """
    by_id = {c.claim_id: c for c in claims}
    rows = []
    for v in verdicts:
        if v["label"] not in ("supported", "contradicted") or v["evidence_chunk_id"] is None:
            continue
        claim = by_id[v["claim_id"]]
        relation = "corroborates" if v["label"] == "supported" else "conflicts"
        evidence = " ".join(v["evidence_text"].split())
        for other in claims_in_chunk.get(v["evidence_chunk_id"], ()):
            if by_id[other].paper_id != claim.paper_id and " ".join(by_id[other].text.split()) in evidence:
                rows.append(_row(question_id, claim, other, relation, "verdict",
                                 shared_entity=", ".join(claim.subject.systems) or None, score=v["confidence"]))
    return rows


def relation_rows(
    question_id: str,
    claims: Sequence[RelationClaim],
    verdicts: Sequence[Mapping],
    claims_in_chunk: Mapping[str, Sequence[str]],
) -> pl.DataFrame:
    """Every relation of the question's claims, figures first, as ``claim_relations`` rows."""
    rows = figure_relations(question_id, claims) + verdict_relations(question_id, claims, verdicts, claims_in_chunk)
    return pl.DataFrame(rows, schema=RELATION_SCHEMA).unique("relation_id", keep="first", maintain_order=True)
