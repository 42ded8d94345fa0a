"""arXiv API records: the JSON / JSONL export shape and the Atom XML the API itself returns.

JSON records look like ``{"id": "2603.11048v1", "title", "authors": [...], "abstract",
"categories": [...], "year"}``, or like the lines of arXiv's bulk metadata snapshot (Kaggle's
``arxiv-metadata-oai-snapshot.json``: ``authors`` and ``categories`` as strings,
``authors_parsed``, ``versions`` with their dates); only ``title`` is required, every other
field is checked for type when present. Atom is parsed with the standard library after refusing any DOCTYPE (where
ENTITY declarations live) in the prolog, which is what defusedxml would refuse: arXiv never sends one, and
expanding them is how XML bombs and local-file reads work.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime

from litsynth.ingest.common import RecordError, abs_url, markup_start, normalise_ws, parse_arxiv_id, require_papers
from litsynth.ingest.jsonrecords import convert_records, get_str, get_str_list
from litsynth.records import PaperRecord, ParseError, ParseResult

_ATOM = "http://www.w3.org/2005/Atom"
_NS = {"atom": _ATOM}
_UNSAFE_XML = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)  # only in the prolog (markup_start)
# The text is already decoded; a leftover encoding declaration would only confuse expat.
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR = re.compile(r"\d{4}")
_VERSION = re.compile(r"v(\d+)")
_AUTHOR_SEPARATOR = re.compile(r"\s*,\s*|\s+and\s+")


def _iso_day(text: str | None) -> str | None:
    match = _ISO_DAY.match(text.strip()) if text else None
    return match.group(0) if match else None


def _arxiv_id(raw: str | None, where: str) -> tuple[str | None, int | None]:
    if raw is None:
        return None, None
    parsed = parse_arxiv_id(raw)
    if parsed is None:
        raise RecordError(f"{where} {raw!r} is not an arXiv id")
    return parsed


def _authors(record: dict) -> tuple[str, ...]:
    """A list of names; in the metadata snapshot, ``authors_parsed`` ([last, first, suffix] rows)
    or else its one ``authors`` string, split at commas and "and"."""
    parsed = record.get("authors_parsed")
    if parsed is not None:
        if not isinstance(parsed, list) or not all(isinstance(row, list) and all(isinstance(p, str) for p in row) for row in parsed):
            raise RecordError("field 'authors_parsed' must be a list of [last, first, suffix] string lists")
        names = (" ".join(p.strip() for p in (row[1:2] + row[:1] + row[2:3]) if p.strip()) for row in parsed)
        return tuple(normalise_ws(name) for name in names if name)
    if isinstance(record.get("authors"), str):
        return tuple(normalise_ws(name) for name in _AUTHOR_SEPARATOR.split(record["authors"]) if name.strip())
    return get_str_list(record, "authors")


def _versions(record: dict) -> tuple[str | None, int | None]:
    """(ISO day of v1, latest version number) from the snapshot's ``versions`` list; (None, None) without one."""
    versions = record.get("versions")
    if versions is None:
        return None, None
    if not isinstance(versions, list) or not versions or not all(isinstance(v, dict) for v in versions):
        raise RecordError("field 'versions' must be a non-empty list of {version, created} objects")
    numbers = [int(m.group(1)) for v in versions if (m := _VERSION.fullmatch(str(v.get("version", ""))))]
    if len(numbers) != len(versions):
        raise RecordError(f"field 'versions' has a version that is not 'v<number>': {[v.get('version') for v in versions]}")
    created = versions[numbers.index(min(numbers))].get("created")
    try:
        first = parsedate_to_datetime(created).date().isoformat() if isinstance(created, str) else None
    except (TypeError, ValueError):
        first = None
    if first is None:
        raise RecordError(f"field 'versions': 'created' of v{min(numbers)} is {created!r}, not a date like 'Mon, 2 Apr 2007 19:18:42 GMT'")
    return first, max(numbers)


def _json_record(record: dict) -> PaperRecord:
    """An arXiv API export record, or a line of the arXiv metadata snapshot (Kaggle's
    ``arxiv-metadata-oai-snapshot.json``: authors and categories as strings, dates in ``versions``)."""
    title = get_str(record, "title")
    abstract = get_str(record, "abstract", required=False)
    arxiv_id, version = _arxiv_id(get_str(record, "id", required=False), "field 'id'")
    year = record.get("year")
    if year is not None and not _YEAR.fullmatch(str(year)):
        raise RecordError(f"field 'year' must be a 4-digit year, got {year!r}")
    first_version, latest_version = _versions(record)
    published = _iso_day(get_str(record, "published", required=False)) or first_version or (str(year) if year is not None else None)
    categories = record.get("categories")
    return PaperRecord(
        title=normalise_ws(title),
        abstract=normalise_ws(abstract or "") or None,
        arxiv_id=arxiv_id,
        arxiv_version=version or (latest_version if arxiv_id else None),
        authors=_authors(record),
        published=published,
        categories=tuple(categories.split()) if isinstance(categories, str) else get_str_list(record, "categories"),
        url=abs_url(arxiv_id),
    )


def parse_arxiv_json(text: str) -> ParseResult:
    """A JSON array, a single JSON object or JSONL of arXiv records."""
    papers, skipped, is_jsonl = convert_records(text, _json_record)
    return require_papers("arxiv_jsonl" if is_jsonl else "arxiv_json", papers, skipped)


def _atom_record(entry: ET.Element) -> PaperRecord:
    raw_id = normalise_ws(entry.findtext("atom:id", "", _NS))
    title = normalise_ws(entry.findtext("atom:title", "", _NS))
    summary = normalise_ws(entry.findtext("atom:summary", "", _NS))
    if parse_arxiv_id(raw_id) is None and title == "Error":
        raise RecordError(f"the arXiv API answered with an error: {summary}")
    arxiv_id, version = _arxiv_id(raw_id, "<id>")
    if not title:
        raise RecordError("<title> is missing or empty")
    names = (normalise_ws(author.findtext("atom:name", "", _NS)) for author in entry.iterfind("atom:author", _NS))
    return PaperRecord(
        title=title,
        abstract=summary or None,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        authors=tuple(name for name in names if name),
        published=_iso_day(entry.findtext("atom:published", None, _NS)),
        categories=tuple(term for c in entry.iterfind("atom:category", _NS) if (term := c.get("term"))),
        url=abs_url(arxiv_id),
    )


def parse_arxiv_atom(text: str) -> ParseResult:
    """An arXiv API Atom feed; each <entry> is one paper, a bad entry is skipped with a reason."""
    if _UNSAFE_XML.match(text, markup_start(text)):
        raise ParseError(
            "XML with a DOCTYPE or ENTITY declaration is refused (entity expansion is how XML bombs "
            "and local-file reads work); arXiv API responses never carry one, so remove it"
        )
    try:
        root = ET.fromstring(_XML_DECLARATION.sub("", text, count=1))
    except ET.ParseError as exc:
        raise ParseError(f"not well-formed XML ({exc}); download the arXiv API response again") from exc
    if root.tag != f"{{{_ATOM}}}feed":
        raise ParseError(f"XML root is <{root.tag}>, not an Atom <feed>; expected an arXiv API response")
    entries = root.findall("atom:entry", _NS)
    if not entries:
        raise ParseError("the Atom feed has no <entry>: the arXiv query matched no papers")
    papers: list[PaperRecord] = []
    skipped: list[str] = []
    for n, entry in enumerate(entries, 1):
        try:
            papers.append(_atom_record(entry))
        except RecordError as exc:
            skipped.append(f"entry {n}: {exc}")
    return require_papers("arxiv_atom", papers, skipped)
