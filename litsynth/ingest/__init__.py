"""Input files to records: every file either yields a ParseResult or a ParseError with its reason.

The parser is chosen from the content (see ``sniff``); each format module is a pure function
of the text or bytes, with no Dagster or DuckDB in sight, so it is tested on the real files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from litsynth.ingest import sniff
from litsynth.ingest.arxiv import parse_arxiv_atom, parse_arxiv_json
from litsynth.ingest.corpus_jsonl import parse_beir, parse_scifact
from litsynth.ingest.listing import parse_listing
from litsynth.ingest.paper_page import parse_paper_page
from litsynth.ingest.pdf import is_pdf, parse_pdf
from litsynth.ingest.prior_report import parse_report
from litsynth.records import ParseError, ParseResult
from litsynth.safeio import UnreadableFile, read_regular

__all__ = ["parse_bytes", "parse_file"]

_TEXT_PARSERS: dict[str, Callable[[str], ParseResult]] = {
    "arxiv_json": parse_arxiv_json,
    "arxiv_atom": parse_arxiv_atom,
    "scifact_corpus": parse_scifact,
    "beir_corpus": parse_beir,
    "synthesis_report": parse_report,
    "paper_page": parse_paper_page,
    "listing_page": parse_listing,
}


def parse_bytes(data: bytes, *, name: str, max_decompressed_bytes: int = 50_000_000) -> ParseResult:
    """Parse one file's bytes; ``name`` is only used to reject a ``.pdf`` that is not a PDF;
    ``max_decompressed_bytes`` caps the text a PDF's compressed streams may inflate to."""
    if is_pdf(data):
        return parse_pdf(data, max_text_chars=max_decompressed_bytes)
    text = sniff.decode_text(data, name=name)
    return _TEXT_PARSERS[sniff.detect_text_format(text)](text)


def parse_file(path: Path, *, max_bytes: int = 50_000_000) -> ParseResult:
    """Parse a regular file, refusing (before reading it) one larger than ``max_bytes``."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise ParseError(
            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit "
            "(raise ingest.max_file_bytes to accept it)"
        )
    try:
        data = read_regular(path, max_bytes=max_bytes, limit_name="ingest.max_file_bytes")
    except UnreadableFile as exc:
        raise ParseError(f"cannot read the file: {exc}") from exc
    return parse_bytes(data, name=path.name)
