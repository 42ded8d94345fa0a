"""Helpers every parser shares: whitespace, arXiv ids, human dates, and the all-skipped rule.

They live in one place so that every source normalises ids and dates the same way, which is
what lets the warehouse deduplicate papers across sources.
"""

from __future__ import annotations

import datetime as dt
import re

from litsynth.records import PaperRecord, ParseError, ParseResult

# New-style ids (2007 on) and old-style archive ids such as "hep-th/9901001" or "math.GT/0309136".
NEW_ID = r"\d{4}\.\d{4,5}"
OLD_ID = r"[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}"
ARXIV_ID_BASE = rf"(?P<id>{NEW_ID}|{OLD_ID})"
ARXIV_ID = rf"{ARXIV_ID_BASE}(?:v(?P<version>\d+))?"

_BARE_OR_URL_ID = re.compile(rf"(?:https?://(?:export\.)?arxiv\.org/(?:abs|pdf)/|arXiv:\s*)?{ARXIV_ID}(?:\.pdf)?")
# Inside running text only a prefixed id counts: a bare "2505.21439" could be any number.
_ID_IN_TEXT = re.compile(rf"(?:arxiv\.org/(?:abs|pdf)/|arXiv:\s*){ARXIV_ID}(?!\d)", re.IGNORECASE)

MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_MONTHS = {name: number for number, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}


_PROLOG_ITEM = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)


def markup_start(text: str) -> int:
    """Offset of the first markup after whitespace, processing instructions (the XML
    declaration) and comments: where a DOCTYPE or the root element of an XML or HTML
    document starts. Strings inside the document's content (CDATA, text) never count."""
    pos = 0
    while (item := _PROLOG_ITEM.match(text, pos)) and item.end() > pos:
        pos = item.end()
    return pos


class RecordError(ValueError):
    """One record inside a file is unusable; the file's other records still count."""


def normalise_ws(text: str) -> str:
    """Collapse runs of whitespace (line wraps included) to single spaces."""
    return " ".join(text.split())


def parse_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """(id without version, version) of a bare id, "arXiv:" id or arxiv.org URL; None if not one."""
    match = _BARE_OR_URL_ID.fullmatch(text.strip())
    if match is None:
        return None
    version = match.group("version")
    return match.group("id"), int(version) if version else None


def abs_url(arxiv_id: str | None) -> str | None:
    """The paper's canonical abstract page, version-free so it names the paper, not one revision."""
    return f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None


def find_arxiv_ids(text: str) -> list[tuple[str, int | None]]:
    """Every "arXiv:<id>" or arxiv.org/abs|pdf/<id> in running text, in order, first sighting only."""
    found: dict[str, int | None] = {}
    for match in _ID_IN_TEXT.finditer(text):
        version = match.group("version")
        found.setdefault(match.group("id"), int(version) if version else None)
    return list(found.items())


def iso_date(month: str, day: str, year: str | None) -> str | None:
    """"Aug", "23", "2025" -> "2025-08-23"; None when the year is unknown or the date impossible."""
    number = _MONTHS.get(month[:3].lower())
    if year is None or number is None:
        return None
    try:
        return dt.date(int(year), number, int(day)).isoformat()
    except ValueError:
        return None


def require_papers(format: str, papers: list[PaperRecord], skipped: list[str]) -> ParseResult:
    """The file's result, or a ParseError naming the first reasons when no record was usable."""
    if not papers:
        shown = "; ".join(skipped[:3])
        more = f" (and {len(skipped) - 3} more)" if len(skipped) > 3 else ""
        raise ParseError(f"no usable record in the file: {shown}{more}" if skipped else "the file holds no records")
    return ParseResult(format=format, papers=papers, skipped=skipped)
