"""Plain records that flow from parsers into the warehouse.

Parsers return these; they never touch DuckDB or Dagster, so every parser is a pure
function of the file's bytes and can be unit-tested on the real seed files.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ParseError(ValueError):
    """A file (or record) that cannot be read as any supported format.

    The message is the reason stored in ``documents.reason``: it names what was wrong and,
    where possible, how to fix it.
    """


@dataclass(frozen=True)
class PaperRecord:
    """One paper as a source describes it (several sources may describe the same paper)."""

    title: str
    abstract: str | None = None
    arxiv_id: str | None = None  # without version, e.g. "2505.21439"
    arxiv_version: int | None = None  # e.g. 1 for "2505.21439v1"
    authors: tuple[str, ...] = ()
    published: str | None = None  # ISO date "YYYY-MM-DD" (or "YYYY" when only the year is known)
    organisation: str | None = None
    categories: tuple[str, ...] = ()
    ai_summary: str | None = None  # a page's machine-written summary, never mixed into the abstract
    full_text: str | None = None  # body text, e.g. from a PDF
    external_id: str | None = None  # id in the source collection, e.g. a SciFact doc_id
    url: str | None = None


@dataclass(frozen=True)
class PriorClaim:
    """A claim row of an imported machine-written report, exactly as the report printed it."""

    text: str
    verified: bool
    confidence: float | None


@dataclass(frozen=True)
class PriorReport:
    """A machine-written synthesis report imported to be audited (seeds 000 and 004)."""

    title: str
    research_question: str
    claims: tuple[PriorClaim, ...]
    reference_arxiv_ids: tuple[str, ...]  # without version
    report_date: str | None = None  # ISO date
    papers_stated: int | None = None  # "yielded 16 papers"
    claims_stated: int | None = None
    verified_stated: int | None = None
    review_score: float | None = None  # the opaque "4.2/10"
    subject_title: str | None = None  # "This paper examines: <title>"


@dataclass
class ParseResult:
    """What one input file yielded.

    ``skipped`` lists records inside an otherwise good file that were not usable
    (e.g. a JSONL line with a missing field), each with its reason.
    """

    format: str  # the parser that read it, e.g. "listing_page", "arxiv_jsonl"
    papers: list[PaperRecord] = field(default_factory=list)
    reports: list[PriorReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
