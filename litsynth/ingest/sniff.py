"""Choosing a parser from a file's content, never from its name alone.

Files arrive renamed, mis-saved and truncated, so the bytes decide: a ``.txt`` holding JSON
is read as JSON. The one use of the name is the reverse check: a ``.pdf`` whose bytes are not
a PDF is rejected, since that is almost always an error page saved in place of the paper.

Text decoding policy: UTF-8 (a UTF-8 BOM is dropped), or UTF-16 when a UTF-16 BOM says so.
Anything else is rejected with the byte offset of the first bad byte rather than decoded as
Latin-1: a wrong guess would put mojibake into titles and claims, where nobody notices it,
while re-saving a file as UTF-8 is a one-step fix.
"""

from __future__ import annotations

import codecs
import json
import re

from litsynth.ingest.common import markup_start
from litsynth.ingest.listing import looks_like_listing
from litsynth.ingest.paper_page import looks_like_paper_page
from litsynth.ingest.prior_report import looks_like_report
from litsynth.records import ParseError

_FORMATS_HINT = (
    "expected a paper-listing page, a paper page, a synthesis report, "
    "arXiv JSON/JSONL/Atom, SciFact/BEIR JSONL or PDF"
)
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive (or .docx/.xlsx)",
    b"\x1f\x8b": "a gzip archive",
}
_CONTROL = set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}
# The document's first markup (after the XML declaration and comments) decides, never a string
# inside its content: an Atom <summary> may well quote "<!DOCTYPE html>".
_HTML = re.compile(r"<!doctype\s+html|<(?:html|body|head)[\s>]", re.IGNORECASE)
# The first record decides the JSON family, read whole whatever its size; records on later
# lines (when the first is broken) are tried within this window, up to this many lines.
_JSON_WINDOW = 1_000_000
_JSON_LINES = 50


def _first_bytes(data: bytes) -> str:
    return " ".join(f"{b:02x}" for b in data[:8])


def _utf16_without_bom(head: bytes) -> str | None:
    """"UTF-16-LE" / "UTF-16-BE" when NULs fill one byte position of each pair, as BOM-less
    UTF-16 of mostly-Latin text does; None otherwise (then the file is binary or 8-bit text)."""
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "UTF-16-LE"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "UTF-16-BE"
    return None


def decode_text(data: bytes, *, name: str = "") -> str:
    """The file as text with "\\n" line ends, or a ParseError saying why it is not text."""
    if not data.strip():
        raise ParseError("empty file" if not data else "the file holds only whitespace")
    if name.lower().endswith(".pdf"):
        raise ParseError(
            f"named .pdf but the content is not a PDF (first bytes {_first_bytes(data)}, expected %PDF-); "
            "it is probably an error page saved in place of the paper: download the PDF again"
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
        head = data[:8192]
        kind = next((what for magic, what in _MAGIC.items() if data.startswith(magic)), None)
        utf16 = None if kind else _utf16_without_bom(head)
        if utf16:
            raise ParseError(
                f"{utf16} text without a byte-order mark (every other byte is 00; first bytes {_first_bytes(data)}); "
                "re-save the file as UTF-8"
            )
        if kind or b"\x00" in head or sum(b in _CONTROL for b in head) > len(head) // 10:
            raise ParseError(
                f"binary content that is not a PDF (first bytes {_first_bytes(data)}"
                f"{', ' + kind if kind else ''}); convert it to text or PDF"
            )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 1].hex()
        raise ParseError(f"not valid {exc.encoding.upper()} at byte {exc.start} (0x{bad}); re-save the file as UTF-8") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _json_format(text: str) -> str:
    """Which JSON family the first decodable object belongs to, judged by its field names.

    Tried in order: the text's first object (in a top-level array, its first element),
    decoded whole; then objects that start a line, as JSONL records do.
    """
    decoder = json.JSONDecoder()
    error: Exception | None = None
    window = text[:_JSON_WINDOW]
    first = len(text) - len(text[1:].lstrip()) if text.startswith("[") else 0
    later = (m.end() for m, _ in zip(re.finditer(r"\n[ \t]*(?=\{)", window), range(_JSON_LINES)))
    for source, start in [(text, first), *((window, start) for start in later)]:
        if not source.startswith("{", start):
            continue
        try:
            value, _ = decoder.raw_decode(source, start)
        except (ValueError, RecursionError) as exc:
            error = error or exc
            continue
        if isinstance(value, dict):
            if "doc_id" in value:
                return "scifact_corpus"
            if "_id" in value:
                return "beir_corpus"
            if value.keys() & {"id", "title", "abstract", "authors"}:
                return "arxiv_json"
            fields = ", ".join(sorted(map(str, value))[:8]) or "none"
            raise ParseError(
                f"JSON records with fields ({fields}) are not a known format: expected arXiv records "
                "(id, title, abstract, authors) or SciFact/BEIR corpus records (doc_id/_id, title, ...)"
            )
    reason = f" ({error})" if error else ""
    raise ParseError(f"not valid JSON{reason}, or no JSON object in it; expected arXiv or SciFact/BEIR records")


def detect_text_format(text: str) -> str:
    """The format name of decoded text, or a ParseError listing the formats that are accepted."""
    body = text.lstrip()
    if body.startswith(("{", "[")):
        return _json_format(body)
    if body.startswith("<"):
        if _HTML.match(body, markup_start(body)):
            raise ParseError(
                "an HTML page: HTML is not parsed (scripts and layout make its text unreliable); "
                "save the page as plain text, or give the paper's arXiv id or PDF instead"
            )
        return "arxiv_atom"
    if looks_like_report(text):
        return "synthesis_report"
    if looks_like_paper_page(text):
        return "paper_page"
    if looks_like_listing(text):
        return "listing_page"
    raise ParseError(f"no recognised format: {_FORMATS_HINT}")
