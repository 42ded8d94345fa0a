"""Machine-written synthesis reports (seeds 000 and 004), imported so they can be audited.

Headings may be Markdown ("## 1 Introduction") or bare ("1 Introduction"), so nothing here
depends on heading syntax: fields are found by the sentences the reports always print.
The research question is taken from the Introduction's "Research question: ...?" sentence,
because the Abstract prints a copy cut short before its last clause. Claim texts are kept
exactly as printed, truncated or not: the audit must see what the report said.
"""

from __future__ import annotations

import re

from litsynth.ingest.common import MONTH, find_arxiv_ids, iso_date, normalise_ws
from litsynth.records import ParseError, ParseResult, PriorClaim, PriorReport

_CLAIMS_HEADER = re.compile(r"^Claim\tVerified\tConfidence\s*$", re.MULTILINE)
_QUESTION = re.compile(r"Research question:\s*(?P<q>[^\n]*\?)")
_DATE_LINE = re.compile(rf"^(?P<month>{MONTH}) (?P<day>\d{{1,2}}), (?P<year>\d{{4}})\s*$", re.MULTILINE)
_SUBJECT = re.compile(r"This paper examines:\s*(?P<title>.+?)\.(?=\s+Research question:|\s*$)", re.MULTILINE)
_REFERENCES = re.compile(r"^(?:#+\s*)?References\s*$", re.MULTILINE)
# Numbers start only where no digit (or decimal point) precedes: without the lookbehind each
# position inside a long run of digits starts a new attempt, and the search turns quadratic.
_PAPERS = re.compile(r"yielded (\d+) papers")
_CLAIMS = re.compile(r"(?<!\d)(\d+) claims (?:were )?extracted")
_VERIFIED = re.compile(r"(?<!\d)(\d+) (?:were )?independently verified")
_SCORE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)/10\b")
_VERIFIED_MARKS = {"✓": True, "✔": True, "✅": True, "yes": True, "true": True,
                   "×": False, "✗": False, "✘": False, "❌": False, "no": False, "false": False}  # fmt: skip


def looks_like_report(text: str) -> bool:
    return "This report synthesises findings" in text or _CLAIMS_HEADER.search(text) is not None


def _int(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text)
    return int(match.group(1)) if match else None


def _claims(text: str) -> tuple[list[PriorClaim], list[str]]:
    """The rows under "Claim<TAB>Verified<TAB>Confidence", up to the first line that is not a row."""
    header = _CLAIMS_HEADER.search(text)
    if header is None:
        return [], []
    claims, skipped = [], []
    for n, line in enumerate(text[header.end() :].lstrip("\n").split("\n"), 1):
        cells = line.split("\t")
        if len(cells) != 3:
            break
        claim, mark, confidence = cells
        verified = _VERIFIED_MARKS.get(mark.strip().lower())
        if verified is None:
            skipped.append(f"claim row {n}: verified mark {mark.strip()!r} is neither ✓ nor ×")
            continue
        try:
            value = float(confidence) if confidence.strip() else None
        except ValueError:
            skipped.append(f"claim row {n}: confidence {confidence.strip()!r} is not a number")
            continue
        claims.append(PriorClaim(text=claim, verified=verified, confidence=value))
    return claims, skipped


def parse_report(text: str) -> ParseResult:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ParseError("synthesis report: the file is blank")
    question = _QUESTION.search(text)
    if question is None:
        raise ParseError(
            "synthesis report: no 'Research question: ...?' sentence (the Introduction states it); "
            "without it the report cannot be matched to a question"
        )
    claims, skipped = _claims(text)
    references = _REFERENCES.search(text)
    date = _DATE_LINE.search(text)
    subject = _SUBJECT.search(text)
    score = _SCORE.search(text)
    report = PriorReport(
        title=normalise_ws(lines[0].lstrip("#")),
        research_question=normalise_ws(question.group("q")),
        claims=tuple(claims),
        reference_arxiv_ids=tuple(i for i, _ in find_arxiv_ids(text[references.end() :])) if references else (),
        report_date=iso_date(date["month"], date["day"], date["year"]) if date else None,
        papers_stated=_int(_PAPERS, text),
        claims_stated=_int(_CLAIMS, text),
        verified_stated=_int(_VERIFIED, text),
        review_score=float(score.group(1)) if score else None,
        subject_title=normalise_ws(subject.group("title")) if subject else None,
    )
    return ParseResult(format="synthesis_report", reports=[report], skipped=skipped)
