"""Scraped paper-listing pages (a "Daily Papers"-style list), in the two layouts seen so far.

Layout A (seed 002) has blank-line separated blocks: title, abstract paragraph, then meta
lines -- "• 6 authors" or an organisation line ("Alibaba-NLP Alibaba-NLP"), a "·" line and a
date line ("Aug 14, 2023 1": the trailing number is the upvote count; "Jan 8": no year).
Layout B (seed 003) is title line / abstract line pairs with no blank lines and no meta.

Both are read as one stream of non-blank lines: page boilerplate is dropped, then each paper
is a title, the line after it as the abstract (unless that is a meta line), then any meta
lines. Only what is printed is kept: ``published`` is set only when the year is shown, and
an organisation printed as handle + name ("Qwen Qwen") is reduced to one copy when the two
are the same; otherwise ("AQ-MedAI AQ") it is kept as printed. Author counts are dropped:
a count is not a list of authors.
"""

from __future__ import annotations

import re

from litsynth.ingest.common import MONTH, iso_date, normalise_ws
from litsynth.records import PaperRecord, ParseError, ParseResult

_BOILERPLATE = re.compile(
    r"new|Subscribe|Daily Papers|byAK and the research community|Get trending papers in your email inbox.*"
)
_SUBSCRIBE_GLUED = re.compile(r"^Subscribe(?=\S)")
_AUTHORS = re.compile(r"•\s*\d+\s+authors?")
_SEPARATOR = "·"
_DATE = re.compile(rf"(?P<month>{MONTH}) (?P<day>\d{{1,2}})(?:, (?P<year>\d{{4}}))?(?: \d+)?")
# Horizontal space only: "\s" would run across newlines from every line start (quadratic on
# a long run of blank lines).
_MARKERS = re.compile(r"Get trending papers|^Daily Papers$|^[ \t]*•[ \t]*\d+[ \t]+authors?[ \t]*$|^·$", re.MULTILINE)
# A title longer than this is a paragraph: the page is not laid out the way this parser expects.
_MAX_TITLE_CHARS = 400


def looks_like_listing(text: str) -> bool:
    """The page's own boilerplate, or the meta lines only a listing prints."""
    return _MARKERS.search(text) is not None


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, stripped line) for every non-blank, non-boilerplate line."""
    kept = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = _SUBSCRIBE_GLUED.sub("", raw.strip())
        if line and not _BOILERPLATE.fullmatch(line):
            kept.append((number, line))
    return kept


def _is_meta(line: str) -> bool:
    return line == _SEPARATOR or bool(_AUTHORS.fullmatch(line) or _DATE.fullmatch(line))


def _organisation(line: str) -> str:
    """"Qwen Qwen" -> "Qwen": the page prints the handle and then the name."""
    words = line.split()
    half = len(words) // 2
    return " ".join(words[:half]) if len(words) % 2 == 0 and words[:half] == words[half:] else line


def _before_separator(lines: list[tuple[int, str]], k: int) -> bool:
    return k + 1 < len(lines) and lines[k + 1][1] == _SEPARATOR


def parse_listing(text: str) -> ParseResult:
    lines = _lines(text)
    papers: list[PaperRecord] = []
    i = 0
    while i < len(lines):
        number, title = lines[i]
        i += 1
        if _is_meta(title):  # e.g. the page's own date above the first paper
            continue
        if len(title) > _MAX_TITLE_CHARS:
            raise ParseError(
                f"listing line {number}: expected a paper title, found a {len(title)}-character paragraph; "
                "the page layout is not recognised (save the listing page as plain text, unedited)"
            )
        abstract = organisation = published = None
        if i < len(lines) and not _is_meta(lines[i][1]) and not _before_separator(lines, i):
            abstract = normalise_ws(lines[i][1])
            i += 1
        while i < len(lines):
            line = lines[i][1]
            i += 1
            if date := _DATE.fullmatch(line):
                published = iso_date(date["month"], date["day"], date["year"])
                break  # the date line closes a paper's block
            if not _is_meta(line):
                if not _before_separator(lines, i - 1):
                    i -= 1  # the next paper's title
                    break
                organisation = _organisation(line)
        papers.append(PaperRecord(title=normalise_ws(title), abstract=abstract, published=published, organisation=organisation))
    if not papers:
        raise ParseError("listing page: no paper titles found, only page boilerplate")
    return ParseResult(format="listing_page", papers=papers)
