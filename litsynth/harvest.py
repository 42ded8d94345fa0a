"""The online source: arXiv search per research question, saved as JSONL for ingestion.

Results are written in the arXiv-record JSONL format the ingest parsers read, one file per
question, so an online run leaves an inspectable, replayable input and an offline run simply
finds the files of the last online run (or none).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from litsynth.config import ResearchQuestion
from litsynth.ingest.arxiv_online import SourceUnavailable, search_arxiv
from litsynth.records import PaperRecord

Search = Callable[..., list[PaperRecord]]


@dataclass(frozen=True)
class HarvestOutcome:
    question_id: str
    status: str  # "fetched" | "offline" | "skipped"
    papers: int
    message: str
    path: Path | None = None


def arxiv_query(question: ResearchQuestion) -> str:
    """An arXiv API query: any keyword (quoted phrases) in title or abstract; the question's words otherwise."""
    if question.keywords:
        return " OR ".join(f'all:"{k}"' if " " in k else f"all:{k}" for k in question.keywords)
    return question.question


def record_to_json(record: PaperRecord) -> dict:
    return {
        "id": f"{record.arxiv_id}v{record.arxiv_version}" if record.arxiv_version else record.arxiv_id,
        "title": record.title,
        "authors": list(record.authors),
        "abstract": record.abstract or "",
        "categories": list(record.categories),
        "year": (record.published or "")[:4] or None,
        "published": record.published,
        "source": "arxiv-api",
    }


def harvest_arxiv(
    questions: Sequence[ResearchQuestion],
    out_dir: Path,
    *,
    max_results: int,
    search: Search = search_arxiv,
) -> list[HarvestOutcome]:
    """Search arXiv for each question; stop trying once the network proves unreachable."""
    outcomes: list[HarvestOutcome] = []
    first_failure: str | None = None  # the question whose search found the network unreachable
    for question in questions:
        if first_failure:
            outcomes.append(HarvestOutcome(question.id, "offline", 0, f"not searched: arXiv was unreachable for {first_failure} in this run; continuing with local files"))
            continue
        try:
            records = search(arxiv_query(question), max_results=max_results)
        except SourceUnavailable as exc:
            first_failure = question.id
            outcomes.append(HarvestOutcome(question.id, "offline", 0, f"arXiv unreachable ({exc}); continuing with local files"))
            continue
        records = [r for r in records if r.arxiv_id]
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{question.id}.jsonl"
        tmp = out_dir / f".{question.id}.jsonl.tmp"  # hidden: never ingested half-written
        tmp.write_text("".join(json.dumps(record_to_json(r), ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        tmp.replace(path)
        outcomes.append(HarvestOutcome(question.id, "fetched", len(records), f"{len(records)} papers from arXiv", path))
    return outcomes
