"""Benchmark corpora: SciFact ``corpus.jsonl`` and BEIR ``corpus.jsonl``.

They feed the same papers table as the scraped pages, so that retrieval benchmarks run on
exactly the text the pipeline would index; ``external_id`` keeps the collection's doc id,
which qrels refer to.
"""

from __future__ import annotations

from litsynth.ingest.common import normalise_ws, require_papers
from litsynth.ingest.jsonrecords import convert_records, get_int, get_str, get_str_list
from litsynth.records import PaperRecord, ParseResult


def _scifact_record(record: dict) -> PaperRecord:
    doc_id = get_int(record, "doc_id")
    title = get_str(record, "title")
    abstract = " ".join(get_str_list(record, "abstract", required=True))
    return PaperRecord(title=normalise_ws(title), abstract=abstract or None, external_id=str(doc_id))


def _beir_record(record: dict) -> PaperRecord:
    doc_id = get_str(record, "_id")
    title = get_str(record, "title")
    text = get_str(record, "text", required=False)
    return PaperRecord(title=normalise_ws(title), abstract=normalise_ws(text or "") or None, external_id=doc_id)


def parse_scifact(text: str) -> ParseResult:
    """SciFact: {doc_id: int, title, abstract: [sentences], structured}; sentences joined by one space."""
    papers, skipped, _ = convert_records(text, _scifact_record)
    return require_papers("scifact_corpus", papers, skipped)


def parse_beir(text: str) -> ParseResult:
    """BEIR: {_id, title, text}."""
    papers, skipped, _ = convert_records(text, _beir_record)
    return require_papers("beir_corpus", papers, skipped)
