"""From a set of input files to the ``documents``, ``papers`` and ``prior_reports`` tables.

Every file is accounted for: a bad file is recorded as rejected with its reason and never stops
the good files beside it. Papers are deduplicated by arXiv id, else by normalised title, and a
title-only record whose title matches a paper with an arXiv id joins that paper.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from litsynth.config import ConfigError, ResearchQuestion
from litsynth.ids import content_id, normalise_title, sha256_hex
from litsynth.ingest import parse_bytes
from litsynth.records import PaperRecord, ParseError, PriorReport
from litsynth.text import compose_paper_text

# Lower is more authoritative when two sources describe the same paper.
FORMAT_PRIORITY = {
    "arxiv_atom": 0,
    "arxiv_json": 0,
    "arxiv_jsonl": 0,
    "arxiv_api": 0,
    "scifact_corpus": 0,
    "beir_corpus": 0,
    "pdf": 1,
    "paper_page": 2,
    "listing_page": 3,
}

DOCUMENT_SCHEMA = {
    "document_id": pl.Utf8,
    "path": pl.Utf8,
    "size_bytes": pl.Int64,
    "sha256": pl.Utf8,
    "format": pl.Utf8,
    "status": pl.Utf8,
    "reason": pl.Utf8,
    "duplicate_of": pl.Utf8,
    "papers_found": pl.Int32,
    "reports_found": pl.Int32,
    "records_skipped": pl.Int32,
    "ingested_at": pl.Datetime("us"),
}

PAPER_SCHEMA = {
    "paper_id": pl.Utf8,
    "dedup_key": pl.Utf8,
    "arxiv_id": pl.Utf8,
    "arxiv_version": pl.Int32,
    "title": pl.Utf8,
    "abstract": pl.Utf8,
    "full_text": pl.Utf8,
    "ai_summary": pl.Utf8,
    "authors": pl.List(pl.Utf8),
    "published": pl.Utf8,
    "organisation": pl.Utf8,
    "categories": pl.List(pl.Utf8),
    "external_id": pl.Utf8,
    "url": pl.Utf8,
    "paper_text": pl.Utf8,
    "text_level": pl.Utf8,
    "source_count": pl.Int32,
}

PAPER_SOURCE_SCHEMA = {"paper_id": pl.Utf8, "document_id": pl.Utf8, "format": pl.Utf8, "title_as_seen": pl.Utf8}

PRIOR_REPORT_SCHEMA = {
    "report_id": pl.Utf8,
    "document_id": pl.Utf8,
    "title": pl.Utf8,
    "research_question": pl.Utf8,
    "question_id": pl.Utf8,
    "report_date": pl.Date,
    "papers_stated": pl.Int32,
    "claims_stated": pl.Int32,
    "verified_stated": pl.Int32,
    "review_score": pl.Float64,
    "subject_title": pl.Utf8,
}
PRIOR_CLAIM_SCHEMA = {
    "prior_claim_id": pl.Utf8,
    "report_id": pl.Utf8,
    "position": pl.Int32,
    "text": pl.Utf8,
    "verified": pl.Boolean,
    "confidence": pl.Float64,
}
PRIOR_REFERENCE_SCHEMA = {"report_id": pl.Utf8, "arxiv_id": pl.Utf8, "paper_id": pl.Utf8}


@dataclass(frozen=True)
class SourcedPaper:
    record: PaperRecord
    document_id: str
    format: str


@dataclass(frozen=True)
class SourcedReport:
    report: PriorReport
    document_id: str


@dataclass(frozen=True)
class CorpusTables:
    documents: pl.DataFrame
    papers: pl.DataFrame
    paper_sources: pl.DataFrame
    prior_reports: pl.DataFrame
    prior_report_claims: pl.DataFrame
    prior_report_references: pl.DataFrame


def discover_files(directories: Iterable[Path]) -> list[Path]:
    """Regular, non-hidden files under the folders (recursively), in a stable order.

    Symlinks are not followed, so a link dropped into a watched folder cannot pull in files
    from elsewhere. A missing folder is skipped (the inbox and the harvest folder appear on
    first use), but when none exists the configuration is wrong: an empty file list would
    replace the corpus tables with nothing, so that raises :class:`ConfigError` instead.
    """
    directories = list(directories)
    if directories and not any(d.is_dir() for d in directories):
        shown = ", ".join(str(d) for d in directories)
        raise ConfigError(
            f"ingest.corpus_dirs: none of the corpus folders exists ({shown}). "
            "Fix: create one of them or point ingest.corpus_dirs at the folders that hold the corpus files"
        )
    files: list[Path] = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*")):
            relative = path.relative_to(directory)
            if any(part.startswith(".") for part in relative.parts) or path.is_symlink() or not path.is_file():
                continue
            files.append(path)
    return files


def _display_path(path: Path, root: Path) -> str:
    try:
        shown = str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        shown = str(path.resolve())
    # A file name that is not valid UTF-8 reaches Python as lone surrogates, which cannot be
    # hashed into an id or stored in DuckDB; show those bytes as \xNN so one oddly named file
    # cannot stop the ingestion of every other file.
    return os.fsencode(shown).decode("utf-8", "backslashreplace")


def ingest_files(
    files: Sequence[Path],
    *,
    root: Path,
    max_file_bytes: int,
    questions: Sequence[ResearchQuestion] = (),
    now: dt.datetime | None = None,
) -> CorpusTables:
    """Parse every file and build the corpus tables; never raises for a bad file."""
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    documents: list[dict] = []
    papers: list[SourcedPaper] = []
    reports: list[SourcedReport] = []
    first_path_by_sha: dict[str, str] = {}

    for path in files:
        shown = _display_path(path, root)
        row = {
            "document_id": content_id("document", shown),
            "path": shown,
            "size_bytes": 0,
            "sha256": None,
            "format": None,
            "status": "rejected",
            "reason": None,
            "duplicate_of": None,
            "papers_found": 0,
            "reports_found": 0,
            "records_skipped": 0,
            "ingested_at": now,
        }
        documents.append(row)
        try:
            row["size_bytes"] = path.stat().st_size
            if row["size_bytes"] > max_file_bytes:
                raise ParseError(
                    f"file is {row['size_bytes']:,} bytes, over the {max_file_bytes:,}-byte limit. "
                    "Fix: split it, or raise ingest.max_file_bytes"
                )
            data = path.read_bytes()
        except OSError as exc:
            row["reason"] = f"cannot read file: {exc.strerror or exc}"
            continue
        except ParseError as exc:
            row["reason"] = str(exc)
            continue
        row["sha256"] = sha256_hex(data)
        if row["sha256"] in first_path_by_sha:
            row["status"] = "duplicate"
            row["duplicate_of"] = first_path_by_sha[row["sha256"]]
            row["reason"] = f"same bytes as {row['duplicate_of']}"
            continue
        first_path_by_sha[row["sha256"]] = shown
        try:
            result = parse_bytes(data, name=path.name)
        except ParseError as exc:
            row["reason"] = str(exc)
            continue
        row.update(
            status="ingested",
            format=result.format,
            papers_found=len(result.papers),
            reports_found=len(result.reports),
            records_skipped=len(result.skipped),
        )
        if result.skipped:
            shown_reasons = "; ".join(result.skipped[:5])
            more = f" (and {len(result.skipped) - 5} more)" if len(result.skipped) > 5 else ""
            row["reason"] = f"{len(result.skipped)} record(s) skipped: {shown_reasons}{more}"
        papers.extend(SourcedPaper(p, row["document_id"], result.format) for p in result.papers)
        reports.extend(SourcedReport(r, row["document_id"]) for r in result.reports)

    paper_rows, source_rows = merge_papers(papers)
    key_to_id = {r["dedup_key"]: r["paper_id"] for r in paper_rows}
    report_tables = _report_rows(reports, key_to_id, questions)
    return CorpusTables(
        documents=pl.DataFrame(documents, schema=DOCUMENT_SCHEMA),
        papers=pl.DataFrame(paper_rows, schema=PAPER_SCHEMA),
        paper_sources=pl.DataFrame(source_rows, schema=PAPER_SOURCE_SCHEMA),
        prior_reports=pl.DataFrame(report_tables[0], schema=PRIOR_REPORT_SCHEMA),
        prior_report_claims=pl.DataFrame(report_tables[1], schema=PRIOR_CLAIM_SCHEMA),
        prior_report_references=pl.DataFrame(report_tables[2], schema=PRIOR_REFERENCE_SCHEMA),
    )


QUESTION_SCHEMA = {
    "question_id": pl.Utf8,
    "question": pl.Utf8,
    "keywords": pl.List(pl.Utf8),
    "benchmarks": pl.List(pl.Utf8),
    "source_file": pl.Utf8,
    "content_sha256": pl.Utf8,
    "loaded_at": pl.Datetime("us"),
}


def questions_table(sources: Sequence[tuple[ResearchQuestion, Path]], *, root: Path, now: dt.datetime | None = None) -> pl.DataFrame:
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rows = [
        {
            "question_id": question.id,
            "question": question.question,
            "keywords": list(question.keywords),
            "benchmarks": list(question.benchmarks),
            "source_file": _display_path(path, root),
            "content_sha256": sha256_hex(path.read_bytes()),
            "loaded_at": now,
        }
        for question, path in sources
    ]
    return pl.DataFrame(rows, schema=QUESTION_SCHEMA)


def dedup_key(record: PaperRecord) -> str:
    return f"arxiv:{record.arxiv_id}" if record.arxiv_id else f"title:{normalise_title(record.title)}"


def _first(values: Iterable[object]) -> object:
    return next((v for v in values if v), None)


def merge_papers(sourced: Sequence[SourcedPaper]) -> tuple[list[dict], list[dict]]:
    """Group records describing the same paper and merge their fields, best source first."""
    arxiv_key_by_title = {normalise_title(s.record.title): dedup_key(s.record) for s in sourced if s.record.arxiv_id}
    groups: dict[str, list[SourcedPaper]] = {}
    for item in sourced:
        key = dedup_key(item.record)
        if not item.record.arxiv_id:
            key = arxiv_key_by_title.get(normalise_title(item.record.title), key)
        groups.setdefault(key, []).append(item)

    papers, sources = [], []
    for key, items in sorted(groups.items()):
        items = sorted(items, key=lambda s: FORMAT_PRIORITY.get(s.format, len(FORMAT_PRIORITY)))
        records = [s.record for s in items]
        paper_id = content_id("paper", key)
        full_text = _first(r.full_text for r in records)
        abstract = _first(r.abstract for r in records)
        papers.append(
            {
                "paper_id": paper_id,
                "dedup_key": key,
                "arxiv_id": _first(r.arxiv_id for r in records),
                "arxiv_version": max((r.arxiv_version for r in records if r.arxiv_version), default=None),
                "title": records[0].title,
                "abstract": abstract,
                "full_text": full_text,
                "ai_summary": _first(r.ai_summary for r in records),
                "authors": list(_first(r.authors for r in records) or []),
                "published": _first(r.published for r in records),
                "organisation": _first(r.organisation for r in records),
                "categories": list(_first(r.categories for r in records) or []),
                "external_id": _first(r.external_id for r in records),
                "url": _first(r.url for r in records),
                "paper_text": compose_paper_text(records[0].title, abstract, full_text),
                "text_level": "full_text" if full_text else "abstract" if abstract else "title_only",
                "source_count": len({s.document_id for s in items}),
            }
        )
        seen_documents: set[str] = set()
        for item in items:
            if item.document_id not in seen_documents:
                seen_documents.add(item.document_id)
                sources.append({"paper_id": paper_id, "document_id": item.document_id, "format": item.format, "title_as_seen": item.record.title})
    return papers, sources


def match_question(research_question: str, questions: Sequence[ResearchQuestion]) -> str | None:
    """The bundled question a report was written for: same words, ignoring case and punctuation."""
    wanted = normalise_title(research_question)
    return next((q.id for q in questions if normalise_title(q.question) == wanted), None)


def _report_rows(
    reports: Sequence[SourcedReport], key_to_id: dict[str, str], questions: Sequence[ResearchQuestion]
) -> tuple[list[dict], list[dict], list[dict]]:
    report_rows, claim_rows, reference_rows = [], [], []
    for item in reports:
        report = item.report
        report_id = content_id("prior_report", item.document_id, report.title)
        report_rows.append(
            {
                "report_id": report_id,
                "document_id": item.document_id,
                "title": report.title,
                "research_question": report.research_question,
                "question_id": match_question(report.research_question, questions),
                "report_date": dt.date.fromisoformat(report.report_date) if report.report_date else None,
                "papers_stated": report.papers_stated,
                "claims_stated": report.claims_stated,
                "verified_stated": report.verified_stated,
                "review_score": report.review_score,
                "subject_title": report.subject_title,
            }
        )
        for position, claim in enumerate(report.claims, start=1):
            claim_rows.append(
                {
                    "prior_claim_id": content_id("prior_claim", report_id, position, claim.text),
                    "report_id": report_id,
                    "position": position,
                    "text": claim.text,
                    "verified": claim.verified,
                    "confidence": claim.confidence,
                }
            )
        for arxiv_id in dict.fromkeys(report.reference_arxiv_ids):
            reference_rows.append({"report_id": report_id, "arxiv_id": arxiv_id, "paper_id": key_to_id.get(f"arxiv:{arxiv_id}")})
    return report_rows, claim_rows, reference_rows
