"""Per-question chunks, claims and the audit of prior-report claims, as warehouse-shaped frames."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from litsynth.claims import ClaimExtractor, ExtractedClaim, is_complete_sentence, match_prior_claim
from litsynth.entities import ClaimSubject, claim_subject, entity_key
from litsynth.text import Chunk, chunk_id, chunk_text
from litsynth.warehouse import frame_schema

CHUNK_SCHEMA = frame_schema("chunks")
CLAIM_SCHEMA = frame_schema("claims")
QUANTITY_SCHEMA = frame_schema("claim_quantities")
ENTITY_SCHEMA = frame_schema("claim_entities")
PRIOR_MATCH_SCHEMA = frame_schema("prior_claim_matches")


@dataclass(frozen=True)
class PaperText:
    paper_id: str
    text: str  # papers.paper_text
    text_level: str = "abstract"
    arxiv_id: str | None = None

    @property
    def display_id(self) -> str:
        """How reasons name the paper: its arXiv id where known."""
        return f"arXiv:{self.arxiv_id}" if self.arxiv_id else self.paper_id


def chunk_papers(
    question_id: str, papers: Sequence[PaperText], *, max_tokens: int, count_tokens: Callable[[str], int]
) -> tuple[pl.DataFrame, dict[str, list[Chunk]]]:
    """Chunks of every paper as rows, and per paper as objects (claims need them)."""
    rows, by_paper = [], {}
    for paper in papers:
        chunks = chunk_text(paper.text, max_tokens=max_tokens, count_tokens=count_tokens)
        by_paper[paper.paper_id] = chunks
        rows += [
            {
                "question_id": question_id,
                "chunk_id": chunk_id(paper.paper_id, chunk),
                "paper_id": paper.paper_id,
                "position": position,
                "char_start": chunk.start,
                "char_end": chunk.end,
                "text": chunk.text,
                "n_tokens": chunk.n_tokens,
                "token_budget": max_tokens,
            }
            for position, chunk in enumerate(chunks)
        ]
    return pl.DataFrame(rows, schema=CHUNK_SCHEMA), by_paper


def extract_claims(
    question_id: str,
    question: str,
    papers: Sequence[PaperText],
    chunks: Mapping[str, list[Chunk]],
    extractor: ClaimExtractor,
    *,
    extractor_name: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Claims and their quantities for the question's papers."""
    claims: list[ExtractedClaim] = []
    for paper in papers:
        claims += extractor.extract(paper.paper_id, paper.text, chunks[paper.paper_id], question)
    claim_rows = [
        {
            "question_id": question_id,
            "claim_id": c.claim_id,
            "paper_id": c.paper_id,
            "chunk_id": c.chunk_id,
            "char_start": c.start,
            "char_end": c.end,
            "text": c.text,
            "claim_type": c.claim_type.value,
            "relevance": c.relevance,
            "extractor": extractor_name,
        }
        for c in claims
    ]
    quantity_rows = [
        {
            "question_id": question_id,
            "claim_id": c.claim_id,
            "position": position,
            "metric": q.metric,
            "value": q.value,
            "unit": q.unit,
            "dataset": q.dataset,
            "model": q.model,
            "from_value": q.from_value,
            "to_value": q.to_value,
            "counted": q.counted,
            "raw": q.raw,
        }
        for c in claims
        for position, q in enumerate(c.quantities)
    ]
    return pl.DataFrame(claim_rows, schema=CLAIM_SCHEMA), pl.DataFrame(quantity_rows, schema=QUANTITY_SCHEMA)


def claim_subjects(
    claims: Sequence[tuple[str, str, str]], paper_systems: Mapping[str, Sequence[str]]
) -> dict[str, ClaimSubject]:
    """Per claim (id, paper id, text): what it is about, its paper's own systems resolving "we"."""
    known = sorted({s for systems in paper_systems.values() for s in systems})
    return {claim_id: claim_subject(text, paper_systems.get(paper_id, ()), known) for claim_id, paper_id, text in claims}


def entity_rows(question_id: str, subjects: Mapping[str, ClaimSubject]) -> pl.DataFrame:
    """``claim_entities`` rows: every entity of every claim, its subject systems flagged."""
    rows = [
        {
            "question_id": question_id,
            "claim_id": claim_id,
            "position": position,
            "kind": e.kind,
            "name": e.name,
            "name_key": e.key,
            "is_subject": e.key in {entity_key(system) for system in subject.systems},
            "resolved_from": e.resolved_from,
            "claim_scope": subject.scope,
        }
        for claim_id, subject in subjects.items()
        for position, e in enumerate(subject.entities)
    ]
    return pl.DataFrame(rows, schema=ENTITY_SCHEMA)


def audit_prior_claims(
    question_id: str,
    prior_claims: Sequence[Mapping],
    references: Mapping[str, Sequence[str]],
    papers: Sequence[PaperText],
) -> pl.DataFrame:
    """Trace each prior-report claim to its full sentence, the report's own references first.

    ``prior_claims`` rows have prior_claim_id, report_id, text; ``references`` maps a report
    to the arXiv ids it cites (in the corpus or not).
    """
    by_key = {p.display_id: p for p in papers}
    abstract_only = [p.display_id for p in papers if p.text_level != "full_text"]
    rows = []
    for claim in prior_claims:
        source_ids = [f"arXiv:{a}" for a in references.get(claim["report_id"], ())]
        cited_papers = [by_key[k] for k in source_ids if k in by_key]
        candidates = cited_papers + [p for p in papers if p not in cited_papers]
        match = match_prior_claim(
            claim["text"], [(p.display_id, p.text) for p in candidates], source_ids=source_ids, abstract_only=abstract_only
        )
        rows.append(
            {
                "question_id": question_id,
                "prior_claim_id": claim["prior_claim_id"],
                "report_id": claim["report_id"],
                "printed_text": claim["text"],
                "printed_complete": is_complete_sentence(claim["text"]),
                "matched": match.matched,
                "paper_id": by_key[match.paper_id].paper_id if match.matched else None,
                "char_start": match.start,
                "char_end": match.end,
                "source_text": match.text,
                "method": match.method,
                "score": match.score,
                "reason": match.reason,
            }
        )
    return pl.DataFrame(rows, schema=PRIOR_MATCH_SCHEMA)
