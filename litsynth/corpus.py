"""From a set of input files to the ``documents``, ``papers`` and ``prior_reports`` tables.

Every file is accounted for: a bad file is recorded as rejected with its reason and never stops
the good files beside it. Papers are deduplicated by arXiv id, else by normalised title, and a
title-only record whose title matches a paper with an arXiv id joins that paper.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from litsynth.config import ConfigError, QuestionFile, ResearchQuestion
from litsynth.ids import content_id, normalise_title, sha256_hex
from litsynth.ingest.worker import ParseBudget, ParseWorker
from litsynth.records import PaperRecord, ParseError, ParseResult, PriorReport
from litsynth.safeio import UnreadableFile, read_regular
from litsynth.text import compose_paper_text
from litsynth.warehouse import frame_schema

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

DOCUMENT_SCHEMA = frame_schema("documents")
PAPER_SCHEMA = frame_schema("papers")
PAPER_SOURCE_SCHEMA = frame_schema("paper_sources")
PRIOR_REPORT_SCHEMA = frame_schema("prior_reports")
PRIOR_CLAIM_SCHEMA = frame_schema("prior_report_claims")
PRIOR_REFERENCE_SCHEMA = frame_schema("prior_report_references")


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
    """Non-hidden entries other than folders and symlinks under the folders (recursively), in a stable order.

    Symlinks are not followed, so a link dropped into a watched folder cannot pull in files
    from elsewhere. FIFOs, sockets and devices are listed so that they get a rejected row; what
    is read is checked again on the opened descriptor (:func:`litsynth.safeio.read_regular`).
    Folders are walked by descriptor, so a path past PATH_MAX does not stop the listing; a
    folder that cannot be listed is itself listed, to be rejected with its reason. A missing
    folder is skipped (the inbox and the harvest folder appear on first use), but when none
    exists the configuration is wrong: an empty file list would replace the corpus tables with
    nothing, so that raises :class:`ConfigError` instead.
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
        found: list[Path] = []
        unlistable = lambda exc: found.append(Path(exc.filename)) if exc.filename else None  # noqa: E731
        for folder, subfolders, names, folder_fd in os.fwalk(directory, onerror=unlistable):
            subfolders[:] = [d for d in subfolders if not d.startswith(".")]
            for name in names:
                if name.startswith("."):
                    continue
                try:
                    if stat.S_ISLNK(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode):
                        continue
                except OSError:
                    pass  # vanished or unreadable: listed, and its read says why
                found.append(Path(folder, name))
        files.extend(sorted(found))
    return files


def _display_path(path: Path, root: Path) -> str:
    try:
        shown = str(path.resolve().relative_to(root.resolve()))
    except (ValueError, OSError):
        shown = str(path.absolute())
    # A file name that is not valid UTF-8 reaches Python as lone surrogates, which cannot be
    # hashed into an id or stored in DuckDB; show those bytes as \xNN so one oddly named file
    # cannot stop the ingestion of every other file.
    return os.fsencode(shown).decode("utf-8", "backslashreplace")


def _one_line(reason: str, limit: int = 2000) -> str:
    """A reason fit for a documents row: valid UTF-8, on one line, not longer than ``limit``."""
    text = " ".join(reason.encode("utf-8", "backslashreplace").decode("utf-8").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _lone_surrogate(value: object) -> bool:
    """Whether a record holds a string that is not valid Unicode (a JSON escape such as \\ud800)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, tuple):
        return any(map(_lone_surrogate, value))
    if dataclasses.is_dataclass(value):
        return any(_lone_surrogate(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def _valid_records(result: ParseResult) -> ParseResult:
    """The result without records that cannot be stored, each named in ``skipped``; all gone -> ParseError."""
    bad = "holds a lone surrogate escape (such as \\ud800), which is not a character. Fix: correct or remove the escape"
    papers = [p for p in result.papers if not _lone_surrogate(p)]
    reports = [r for r in result.reports if not _lone_surrogate(r)]
    skipped = [*result.skipped, *(f"record {ascii(p.title[:60])} {bad}" for p in result.papers if _lone_surrogate(p)),
               *(f"report {ascii(r.title[:60])} {bad}" for r in result.reports if _lone_surrogate(r))]
    if (result.papers or result.reports) and not (papers or reports):
        raise ParseError(f"no usable record: {'; '.join(skipped[:3])}")
    return ParseResult(format=result.format, papers=papers, reports=reports, skipped=skipped)


def ingest_files(
    files: Sequence[Path],
    *,
    root: Path,
    max_file_bytes: int,
    questions: Sequence[ResearchQuestion] = (),
    budget: ParseBudget = ParseBudget(),
    now: dt.datetime | None = None,
) -> CorpusTables:
    """Parse every file (in a budgeted worker process) and build the corpus tables; never raises for a bad file."""
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    documents: list[dict] = []
    papers: list[SourcedPaper] = []
    reports: list[SourcedReport] = []
    first_path_by_sha: dict[str, str] = {}

    with ParseWorker(budget) as worker:
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
                result = _read_and_parse(path, row, worker, max_file_bytes, first_path_by_sha)
            except (ParseError, UnreadableFile) as exc:
                row["reason"] = _one_line(str(exc))
                continue
            # One file's unexpected failure is that file's rejection, never the run's end.
            except Exception as exc:  # noqa: BLE001
                row["reason"] = _one_line(f"could not be ingested ({type(exc).__name__}: {exc})")
                continue
            if result is None:
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
                row["reason"] = _one_line(f"{len(result.skipped)} record(s) skipped: {shown_reasons}{more}")
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


def _read_and_parse(path: Path, row: dict, worker: ParseWorker, max_file_bytes: int, first_path_by_sha: dict[str, str]) -> ParseResult | None:
    """Fill ``row``'s size and hash; the parse result, or None for a duplicate (``row`` says of what)."""
    data = read_regular(path, max_bytes=max_file_bytes, limit_name="ingest.max_file_bytes")
    row["size_bytes"] = len(data)
    row["sha256"] = sha256_hex(data)
    if row["sha256"] in first_path_by_sha:
        row["status"] = "duplicate"
        row["duplicate_of"] = first_path_by_sha[row["sha256"]]
        row["reason"] = f"same bytes as {row['duplicate_of']}"
        return None
    first_path_by_sha[row["sha256"]] = row["path"]
    return _valid_records(worker.parse(data, name=path.name))


QUESTION_SCHEMA = frame_schema("questions")


def questions_table(files: Sequence[QuestionFile], *, root: Path, now: dt.datetime | None = None) -> pl.DataFrame:
    """One row per loaded question file (see :func:`litsynth.config.scan_questions`)."""
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rows = [
        {
            "question_id": f.question.id,
            "question": f.question.question,
            "keywords": list(f.question.keywords),
            "benchmarks": list(f.question.benchmarks),
            "source_file": _display_path(f.path, root),
            "content_sha256": f.sha256,
            "loaded_at": now,
        }
        for f in files
        if f.status == "loaded"
    ]
    return pl.DataFrame(rows, schema=QUESTION_SCHEMA)


QUESTION_FILE_SCHEMA = frame_schema("question_files")


def question_files_table(files: Sequence[QuestionFile], *, root: Path) -> pl.DataFrame:
    """Every entry of the questions folder, as ``documents`` is for corpus files."""
    rows = [
        {
            "file": _display_path(f.path, root),
            "status": f.status,
            "reason": _one_line(f.reason) if f.reason else None,
            "question_id": f.question.id if f.question else None,
            "content_sha256": f.sha256,
        }
        for f in files
    ]
    return pl.DataFrame(rows, schema=QUESTION_FILE_SCHEMA)


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
