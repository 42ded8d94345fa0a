"""Labelled data files (benchmarks, claim sets) read strictly, line by line.

Unlike corpus ingestion, which sets a bad record aside and keeps the rest, a labelled file
with a bad line stops the load: scores over a silently shortened claim set or qrels would be
wrong numbers. So every problem is raised at once, naming the file, the line, the field and
the fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path


class DataFormatError(ValueError):
    """A labelled data file that cannot be read; the message names the file, the line or field, and the fix."""


def jsonl_records(path: Path, *, expected: str) -> Iterator[tuple[int, dict]]:
    """(line number, JSON object) for every non-blank line; ``expected`` says what the file
    should be (the fix when it is missing)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").split("\n")
    except FileNotFoundError as exc:
        raise DataFormatError(f"{path}: file not found. Fix: point at {expected}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise DataFormatError(f"{path}: line {number}: not valid JSON ({exc}). Fix: one JSON object per line") from exc
        if not isinstance(record, dict):
            raise DataFormatError(f"{path}: line {number}: expected a JSON object, got {type(record).__name__}")
        yield number, record


def required_field(path: Path, number: int, record: dict, name: str, kind: type | tuple[type, ...]) -> object:
    """``record[name]``, which must be of ``kind`` (never a bool standing in for an int)."""
    value = record.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        wanted = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        got = "missing" if name not in record else f"a {type(value).__name__}"
        raise DataFormatError(f"{path}: line {number}: field {name!r} must be a {wanted}, but is {got}")
    return value


def _corpus_record(path: Path, number: int, record: dict) -> tuple[str, str, str | tuple[str, ...]]:
    """(doc id, title, body) of one corpus line: SciFact's (``doc_id``, ``abstract`` as a
    sentence list, returned as a tuple) or BEIR's (``_id``, ``text`` as one string). A line
    with both ids is read as SciFact's, whose sentence boundaries are the annotated ones."""
    title = record.get("title") or ""
    if not isinstance(title, str):
        raise DataFormatError(f"{path}: line {number}: field 'title' must be a string, but is a {type(title).__name__}")
    if "doc_id" in record:
        doc_id = required_field(path, number, record, "doc_id", (int, str))
        sentences = required_field(path, number, record, "abstract", list)
        if not all(isinstance(s, str) for s in sentences):
            raise DataFormatError(f"{path}: line {number}: field 'abstract' must be a list of sentence strings")
        return str(doc_id), title, tuple(sentences)
    if "_id" in record:
        doc_id = required_field(path, number, record, "_id", (int, str))
        return str(doc_id), title, required_field(path, number, record, "text", str)
    raise DataFormatError(f"{path}: line {number}: no 'doc_id' (SciFact) or '_id' (BEIR) field. Fix: give every document an id")


def read_corpus(path: Path, *, expected: str) -> dict[str, tuple[str, str | tuple[str, ...]]]:
    """doc id -> (title, body) of every line of a corpus file (body: see :func:`_corpus_record`);
    ids must be unique and the file must hold a document."""
    corpus: dict[str, tuple[str, str | tuple[str, ...]]] = {}
    for number, record in jsonl_records(path, expected=expected):
        doc_id, title, body = _corpus_record(path, number, record)
        if doc_id in corpus:
            raise DataFormatError(f"{path}: line {number}: doc id {doc_id!r} appears twice. Fix: ids must be unique")
        corpus[doc_id] = (title, body)
    if not corpus:
        raise DataFormatError(f"{path}: no documents. Fix: point at {expected}")
    return corpus
