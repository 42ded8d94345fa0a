"""PDF full text via pypdf, so that claims can be grounded in a paper's body, not just its abstract.

Title: the document's metadata title, else the first non-blank line of page 1 that is not an
arXiv stamp. arXiv id: the first "arXiv:<id>" (or arxiv.org link) on page 1. Abstract: the
text after an "Abstract" heading up to an "Introduction" heading ("1 Introduction",
"I. INTRODUCTION", ...); None when either heading is missing rather than a guess.
"""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from litsynth.ingest.common import abs_url, find_arxiv_ids, normalise_ws
from litsynth.records import PaperRecord, ParseError, ParseResult

_ABSTRACT_HEAD = re.compile(r"^\s*abstract\b[\s.:—–-]*", re.IGNORECASE | re.MULTILINE)
_INTRO_HEAD = re.compile(r"^\s*(?:(?:1|I)\.?\s*)?Introduction\b", re.IGNORECASE | re.MULTILINE)
_ARXIV_STAMP = re.compile(r"^arXiv:", re.IGNORECASE)


def is_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-")


def _page_texts(data: bytes, max_text_chars: int) -> tuple[list[str], str | None]:
    """(text of every page, metadata title); every pypdf failure becomes a ParseError.

    A PDF with only an owner password (copy/print restrictions) opens with the empty user
    password, as every viewer does. Pages that share one large compressed stream each inflate
    it again, so the inflated page contents, then the extracted text, must stay within
    ``max_text_chars``.
    """
    try:
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and not reader.decrypt("")
        if not locked:
            title = reader.metadata.title if reader.metadata else None
            inflated = 0
            for number, page in enumerate(reader.pages, 1):  # zlib in C: cheap next to text extraction
                contents = page.get_contents()
                inflated += len(contents.get_data()) if contents is not None else 0
                if inflated > max_text_chars:
                    raise ParseError(
                        f"PDF page contents inflate past {max_text_chars:,} bytes by page {number} (a decompression bomb?). "
                        "Fix: split the PDF, or raise ingest.max_decompressed_bytes"
                    )
            pages, total = [], 0
            for page in reader.pages:
                pages.append(page.extract_text() or "")
                total += len(pages[-1])
                if total > max_text_chars:
                    raise ParseError(
                        f"PDF text passes {max_text_chars:,} characters by page {len(pages)} (a decompression bomb?). "
                        "Fix: split the PDF, or raise ingest.max_decompressed_bytes"
                    )
    except ParseError:
        raise
    # pypdf raises many exception types on malformed input (PdfReadError, KeyError, ValueError,
    # RecursionError, ...); to the pipeline they all mean the same: this PDF cannot be read.
    except Exception as exc:  # noqa: BLE001
        raise ParseError(f"PDF cannot be read ({type(exc).__name__}: {exc}); download the file again") from exc
    if locked:
        raise ParseError("PDF is encrypted with a user password; save an unencrypted copy (e.g. print it to PDF) and ingest that")
    return pages, title if isinstance(title, str) else None


def _abstract(text: str) -> str | None:
    head = _ABSTRACT_HEAD.search(text)
    if head is None:
        return None
    end = _INTRO_HEAD.search(text, head.end())
    return (normalise_ws(text[head.end() : end.start()]) or None) if end else None


def parse_pdf(data: bytes, *, max_text_chars: int = 50_000_000) -> ParseResult:
    if not is_pdf(data):
        raise ParseError(f"not a PDF: it does not start with %PDF- (first bytes {data[:8]!r})")
    if b"%%EOF" not in data[-1024:]:
        raise ParseError("PDF is truncated (no %%EOF marker at the end); download the file again")
    pages, meta_title = _page_texts(data, max_text_chars)
    full_text = "\n\n".join(page.strip() for page in pages).strip()
    if not full_text:
        raise ParseError("PDF has no extractable text (a scanned image?); run OCR on it first")
    first_page = pages[0]
    first_line = next((line for line in first_page.splitlines() if line.strip() and not _ARXIV_STAMP.match(line.strip())), "")
    title = normalise_ws(meta_title or "") or normalise_ws(first_line)
    if not title:
        raise ParseError("PDF has no title: none in its metadata and page 1 has no text line")
    ids = find_arxiv_ids(first_page)
    arxiv_id, version = ids[0] if ids else (None, None)
    paper = PaperRecord(
        title=title,
        abstract=_abstract(full_text),
        arxiv_id=arxiv_id,
        arxiv_version=version,
        full_text=full_text,
        url=abs_url(arxiv_id),
    )
    return ParseResult(format="pdf", papers=[paper])
