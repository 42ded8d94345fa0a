"""Content-hash identifiers: the same content always gets the same id, in any run or partition."""

from __future__ import annotations

import hashlib
import re
import unicodedata


def content_id(*parts: object) -> str:
    """A stable 16-hex id of the given parts (joined with a separator no text contains)."""
    joined = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def normalise_title(title: str) -> str:
    """Case-, accent-, punctuation- and spacing-insensitive form of a title, for deduplication."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())
