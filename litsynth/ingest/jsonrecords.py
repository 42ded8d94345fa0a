"""JSON array, single-object and JSONL files read record by record.

One broken line or one record with a wrong-typed field must not sink a file of thousands, so
every problem becomes a located reason ("line 5: field 'title' is missing") and the good
records still come back.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from litsynth.ingest.common import RecordError, normalise_ws
from litsynth.records import PaperRecord, ParseError

_TYPE_NAMES = {str: "string", int: "int", float: "float", bool: "bool", list: "list", dict: "object", type(None): "null"}


def _type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _why(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}" if exc.lineno == 1 else f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)


def _second_line_is_json(body: str) -> bool:
    """Whether a text that starts with "[" is JSONL after all (its first line an array
    record, bad or not): its second non-blank line is a JSON value on its own, which no line
    of a pretty-printed array is."""
    lines = (line for line in body.split("\n", 50)[1:50] if line.strip())
    second = next(lines, None)
    try:
        json.loads(second) if second is not None else None
    except (ValueError, RecursionError):
        return False
    return second is not None


def _load(text: str) -> tuple[list[tuple[str, object]], list[str], bool]:
    """(location, value) pairs, reasons for undecodable lines, and whether the file is JSONL."""
    body = text.strip()
    try:
        whole = json.loads(body)
    except (ValueError, RecursionError) as exc:
        if body.startswith("[") and not _second_line_is_json(body):
            raise ParseError(f"not valid JSON: {_why(exc)}; fix the file or write one record per line (JSONL)") from exc
    else:
        if isinstance(whole, list):
            return [(f"record {n}", value) for n, value in enumerate(whole, 1)], [], False
        if isinstance(whole, dict):
            return [("record 1", whole)], [], False
    records: list[tuple[str, object]] = []
    skipped: list[str] = []
    # split("\n"), not splitlines(): JSON strings may legally hold U+2028 and friends.
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            records.append((f"line {n}", json.loads(line)))
        except (ValueError, RecursionError) as exc:
            skipped.append(f"line {n}: not valid JSON ({_why(exc)})")
    return records, skipped, True


def convert_records(text: str, convert: Callable[[dict], PaperRecord]) -> tuple[list[PaperRecord], list[str], bool]:
    """Apply ``convert`` to every JSON object; (papers, skipped reasons, is JSONL)."""
    records, skipped, is_jsonl = _load(text)
    papers: list[PaperRecord] = []
    for where, value in records:
        try:
            if not isinstance(value, dict):
                raise RecordError(f"expected a JSON object, got {_type_name(value)}")
            papers.append(convert(value))
        except RecordError as exc:
            skipped.append(f"{where}: {exc}")
    return papers, skipped, is_jsonl


def _field(record: dict, name: str, required: bool) -> object:
    """The field's value, None when absent or null; a missing required field is an error."""
    if required and name not in record:
        raise RecordError(f"field {name!r} is missing")
    return record.get(name)


def get_str(record: dict, name: str, *, required: bool = True) -> str | None:
    """A string field; a required one must be present and non-blank, an optional one may be null."""
    value = _field(record, name, required)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise RecordError(f"field {name!r} must be a string, got {_type_name(value)}")
    if required and not value.strip():
        raise RecordError(f"field {name!r} is empty")
    return value


def get_int(record: dict, name: str) -> int:
    """A required integer field (a JSON bool is not one)."""
    value = _field(record, name, True)
    if not isinstance(value, int) or isinstance(value, bool):
        raise RecordError(f"field {name!r} must be an int, got {_type_name(value)}")
    return value


def get_str_list(record: dict, name: str, *, required: bool = False) -> tuple[str, ...]:
    """A list-of-strings field, whitespace-normalised, blanks dropped; optional ones may be absent."""
    value = _field(record, name, required)
    if value is None and not required:
        return ()
    if not isinstance(value, list):
        raise RecordError(f"field {name!r} must be a list of strings, got {_type_name(value)}")
    odd = [item for item in value if not isinstance(item, str)]
    if odd:
        raise RecordError(f"field {name!r} must be a list of strings, got a list holding {_type_name(odd[0])}")
    return tuple(normalise_ws(item) for item in value if item.strip())
