"""A scraped single-paper page (seed 001).

Layout: "CLIRMay 27, 2025" (topic label glued to the date), the title, an id line such as
"arXiv:2505.21439v15 citationsh-index: 20", "Originality ...", "AI Analysis", the page's
machine-written summary paragraph(s), the paper's abstract, then UI text ("Foundations",
"The foundational work ...", "Your Notes").

The id line has the citation count glued onto the version: "v15 citations" is version 1 and
5 citations. When "citations" follows, the version is read as the first digit only (arXiv
versions above 9 are rare; a glued count is what this page always prints); otherwise all
the digits are the version.

Summary versus abstract: the page always prints the abstract as the last paragraph before
the UI text, after the "AI Analysis" paragraphs. So the last paragraph between "AI Analysis"
and the UI text is the abstract and the paragraphs before it are the ``ai_summary``. Without
an "AI Analysis" heading there is no summary and all the paragraphs are the abstract. The
two are never mixed, so a machine-written summary is never treated as the paper's words.
"""

from __future__ import annotations

import re

from litsynth.ingest.common import ARXIV_ID, ARXIV_ID_BASE, MONTH, abs_url, iso_date, normalise_ws
from litsynth.records import PaperRecord, ParseError, ParseResult

_HEADER = re.compile(rf"(?P<label>.*?)(?P<month>{MONTH}) (?P<day>\d{{1,2}}), (?P<year>\d{{4}})")
_ID_GLUED = re.compile(rf"arXiv:\s*{ARXIV_ID_BASE}v(?P<version>\d)\d*\s*citations")
_ID_PLAIN = re.compile(rf"arXiv:\s*{ARXIV_ID}")
_ID_LINE = re.compile(r"^arXiv:[^\n]*", re.MULTILINE)
_SUMMARY_HEADING = re.compile(r"^AI Analysis\s*$", re.MULTILINE)
_UI_TEXT = re.compile(r"Foundations|Your Notes|The foundational work\b.*", re.DOTALL)


def looks_like_paper_page(text: str) -> bool:
    """An "arXiv:<id>" line within the first few non-blank lines."""
    head = [line.strip() for line in text.splitlines() if line.strip()][:10]
    return any(_ID_PLAIN.match(line) for line in head)


def _paragraphs(text: str) -> list[str]:
    paragraphs = [normalise_ws(block) for block in re.split(r"\n\s*\n", text)]
    return [p for p in paragraphs if p]


def parse_paper_page(text: str) -> ParseResult:
    id_line = _ID_LINE.search(text)
    if id_line is None:
        raise ParseError("paper page: no 'arXiv:<id>' line found")
    head = [line.strip() for line in text[: id_line.start()].splitlines() if line.strip()]
    if not head:
        raise ParseError("paper page: no title line before the 'arXiv:' line")
    header = _HEADER.fullmatch(head[0]) if len(head) > 1 else None
    line = id_line.group(0).strip()
    ident = _ID_GLUED.match(line) or _ID_PLAIN.match(line)
    if ident is None:
        raise ParseError(f"paper page: {line[:60]!r} does not hold an arXiv id")

    body = text[id_line.start() :]
    summary_heading = _SUMMARY_HEADING.search(body)
    paragraphs = _paragraphs(body[summary_heading.end() :] if summary_heading else body)
    if not summary_heading:
        paragraphs = paragraphs[1:]  # the id / "Originality" block
    content = []
    for paragraph in paragraphs:
        if _UI_TEXT.fullmatch(paragraph):
            break
        content.append(paragraph)
    if summary_heading:
        abstract, summary = (content[-1], content[:-1]) if content else (None, [])
    else:
        abstract, summary = (" ".join(content) or None), []

    version = ident.group("version")
    paper = PaperRecord(
        title=normalise_ws(head[-1]),
        abstract=abstract,
        arxiv_id=ident.group("id"),
        arxiv_version=int(version) if version else None,
        published=iso_date(header["month"], header["day"], header["year"]) if header else None,
        categories=(header["label"],) if header and header["label"] else (),
        ai_summary="\n\n".join(summary) or None,
        url=abs_url(ident.group("id")),
    )
    return ParseResult(format="paper_page", papers=[paper])
