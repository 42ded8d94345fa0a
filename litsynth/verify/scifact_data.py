"""SciFact-format labelled claims and their corpus, read strictly (:mod:`litsynth.datafiles`).

Claim files, one JSON object per line; each layout is recognised per line:

- official SciFact (Wadden et al., 2020): ``{"id", "claim", "evidence": {doc_id: [{"sentences":
  [...], "label": "SUPPORT" | "CONTRADICT"}, ...]}, "cited_doc_ids"}``. ``evidence`` may be
  absent (the unlabelled test file) or empty (a claim with no evidence).
- the early SciFact release: one claim-level ``"label"`` and ``"evidence": {doc_id:
  {"sentences": [...]}}``.
- the Hugging Face ``allenai/scifact`` claims export: one line per (claim, evidence set) with
  ``evidence_doc_id``, ``evidence_label`` and ``evidence_sentences`` (empty strings for a
  claim with no evidence); lines of one claim id are merged.

Corpus files: SciFact (``doc_id``, ``title``, ``abstract`` as a list of sentences) or BEIR
(``_id``, ``title``, ``text``, split into sentences here; rationale sentence numbers then do not
refer to it, so only abstract-level scores mean anything).

:func:`check_claims_against_corpus` refuses gold evidence the corpus cannot hold (a missing
abstract, a sentence number past its end): scores against the wrong corpus would be wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from litsynth.datafiles import DataFormatError, jsonl_records, read_corpus, required_field
from litsynth.text import split_sentences
from litsynth.verify.verifiers import CONTRADICTED, SUPPORTED, Label

SEPARATOR = "\n\n"  # between abstract sentences: a blank line always ends a sentence (litsynth.text)
# Gold labels as SciFact-format files spell them (SciFact releases, FEVER-style exports), compared
# after :func:`canonical_label` (any case; spaces, hyphens and underscores alike); None: no evidence.
GOLD_LABELS: dict[str, Label | None] = {
    "SUPPORT": SUPPORTED, "SUPPORTS": SUPPORTED, "SUPPORTED": SUPPORTED,
    "CONTRADICT": CONTRADICTED, "CONTRADICTS": CONTRADICTED, "CONTRADICTED": CONTRADICTED,
    "REFUTE": CONTRADICTED, "REFUTES": CONTRADICTED, "REFUTED": CONTRADICTED,
    "NEI": None, "NOT_ENOUGH_INFO": None, "NOT_ENOUGH_EVIDENCE": None, "": None,
}
CLAIMS_FILE = "a SciFact claims JSONL (id, claim, evidence, cited_doc_ids)"
CORPUS_FILE = "a SciFact corpus JSONL (doc_id, title, abstract sentences) or a BEIR corpus.jsonl"


@dataclass(frozen=True)
class Rationale:
    sentences: frozenset[int]
    label: Label


@dataclass(frozen=True)
class SciFactClaim:
    id: int
    claim: str
    evidence: Mapping[str, tuple[Rationale, ...]]  # doc id -> gold rationales (one label per doc)
    cited_doc_ids: tuple[str, ...]

    def gold_label(self, doc_id: str) -> Label | None:
        rationales = self.evidence.get(doc_id)
        return rationales[0].label if rationales else None


@dataclass(frozen=True)
class Abstract:
    doc_id: str
    title: str
    sentences: tuple[str, ...]
    sentences_given: bool = True  # False: split here from a BEIR text, so gold sentence numbers do not apply

    @property
    def evidence_text(self) -> str:
        """What a verifier reads: the abstract's sentences, one per paragraph."""
        return SEPARATOR.join(self.sentences)

    @property
    def search_text(self) -> str:
        return self.title + SEPARATOR + self.evidence_text

    def sentence_indices(self, spans: Iterable[tuple[int, int]]) -> tuple[int, ...]:
        """Abstract sentence numbers of character spans of ``evidence_text``, in span order."""
        starts, position = [], 0
        for sentence in self.sentences:
            starts.append(position)
            position += len(sentence) + len(SEPARATOR)
        found: list[int] = []
        for start, _ in spans:
            index = max(i for i, s in enumerate(starts) if s <= start) if starts else 0
            if index not in found:
                found.append(index)
        return tuple(found)


def _claim_id(path: Path, number: int, record: dict) -> int:
    value = required_field(path, number, record, "id", (int, str))
    try:
        return int(value)
    except ValueError:
        raise DataFormatError(f"{path}: line {number}: field 'id' must be an integer claim id, but is {value!r}") from None


def canonical_label(value: str) -> str:
    """"not enough info", "Not-Enough-Info" and "NOT_ENOUGH_INFO" alike: upper case, one underscore between words."""
    return "_".join(value.replace("-", " ").replace("_", " ").upper().split())


def _label(path: Path, number: int, value: object, field: str) -> Label | None:
    if not isinstance(value, str) or canonical_label(value) not in GOLD_LABELS:
        accepted = ", ".join(k for k in GOLD_LABELS if k)
        raise DataFormatError(f"{path}: line {number}: field {field!r} is {value!r}. Fix: use one of {accepted} (any case)")
    return GOLD_LABELS[canonical_label(value)]


def _sentence_numbers(path: Path, number: int, value: object, field: str) -> frozenset[int]:
    if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value):
        raise DataFormatError(f"{path}: line {number}: field {field!r} must be a list of sentence numbers (integers from 0), but is {value!r}")
    return frozenset(value)


def _doc_ids(path: Path, number: int, record: dict, field: str) -> tuple[str, ...]:
    value = record.get(field, [])
    if not isinstance(value, list) or not all(isinstance(d, (int, str)) and not isinstance(d, bool) for d in value):
        raise DataFormatError(f"{path}: line {number}: field {field!r} must be a list of document ids, but is {value!r}")
    return tuple(str(d) for d in value)


def _official_evidence(path: Path, number: int, record: dict) -> dict[str, list[Rationale]]:
    """``evidence`` of the official layout (a list of rationales per doc) or of the early
    release (one ``{"sentences"}`` per doc, the label on the claim)."""
    evidence = record.get("evidence", {})
    if not isinstance(evidence, dict):
        raise DataFormatError(f"{path}: line {number}: field 'evidence' must be an object of doc id -> rationales, but is a {type(evidence).__name__}")
    claim_label = _label(path, number, record["label"], "label") if "label" in record else None
    found: dict[str, list[Rationale]] = {}
    for doc_id, rationales in evidence.items():
        where = f"evidence.{doc_id}"
        if isinstance(rationales, dict):  # early release: the label is the claim's
            if claim_label is None:
                raise DataFormatError(f"{path}: line {number}: {where} has no label. Fix: give the claim a 'label' or each rationale one")
            rationales = [{**rationales, "label": record["label"]}]
        if not isinstance(rationales, list):
            raise DataFormatError(f"{path}: line {number}: field {where!r} must be a list of rationales, but is a {type(rationales).__name__}")
        for i, rationale in enumerate(rationales):
            if not isinstance(rationale, dict):
                raise DataFormatError(f"{path}: line {number}: field '{where}[{i}]' must be an object with 'sentences' and 'label'")
            label = _label(path, number, rationale.get("label"), f"{where}[{i}].label")
            if label is None:
                raise DataFormatError(f"{path}: line {number}: field '{where}[{i}].label' says no evidence inside an evidence entry. Fix: drop the entry")
            found.setdefault(str(doc_id), []).append(Rationale(_sentence_numbers(path, number, rationale.get("sentences"), f"{where}[{i}].sentences"), label))
    return found


def _flat_evidence(path: Path, number: int, record: dict) -> dict[str, list[Rationale]]:
    """One evidence set of the Hugging Face export (empty doc id and label: no evidence)."""
    doc_id = record.get("evidence_doc_id")
    if doc_id in ("", None):
        return {}
    if not isinstance(doc_id, (int, str)) or isinstance(doc_id, bool):
        raise DataFormatError(f"{path}: line {number}: field 'evidence_doc_id' must be a document id, but is {doc_id!r}")
    label = _label(path, number, record.get("evidence_label"), "evidence_label")
    if label is None:
        raise DataFormatError(f"{path}: line {number}: 'evidence_doc_id' {doc_id} has no 'evidence_label'. Fix: SUPPORT or CONTRADICT")
    return {str(doc_id): [Rationale(_sentence_numbers(path, number, record.get("evidence_sentences"), "evidence_sentences"), label)]}


def load_claims(path: Path) -> list[SciFactClaim]:
    """Every claim of a SciFact-format file, in file order (layouts: module docstring)."""
    path = Path(path)
    texts: dict[int, str] = {}
    first_line: dict[int, int] = {}
    evidence: dict[int, dict[str, list[Rationale]]] = {}
    cited: dict[int, tuple[str, ...]] = {}
    for number, record in jsonl_records(path, expected=CLAIMS_FILE):
        claim_id = _claim_id(path, number, record)
        text = required_field(path, number, record, "claim", str).strip()
        if not text:
            raise DataFormatError(f"{path}: line {number}: field 'claim' is empty. Fix: give the claim's text")
        flat = "evidence_doc_id" in record
        rows = _flat_evidence(path, number, record) if flat else _official_evidence(path, number, record)
        if claim_id in texts:
            if not flat:
                raise DataFormatError(f"{path}: line {number}: claim id {claim_id} also on line {first_line[claim_id]}. Fix: ids must be unique")
            if texts[claim_id] != text:
                raise DataFormatError(f"{path}: line {number}: claim id {claim_id} has a different 'claim' text than on line {first_line[claim_id]}")
        texts.setdefault(claim_id, text)
        first_line.setdefault(claim_id, number)
        for doc_id, rationales in rows.items():
            evidence.setdefault(claim_id, {}).setdefault(doc_id, []).extend(rationales)
        cited[claim_id] = tuple(dict.fromkeys(cited.get(claim_id, ()) + _doc_ids(path, number, record, "cited_doc_ids")))
    claims = []
    for claim_id, text in texts.items():
        for doc_id, rationales in evidence.get(claim_id, {}).items():
            if len({r.label for r in rationales}) > 1:
                raise DataFormatError(
                    f"{path}: line {first_line[claim_id]}: claim {claim_id} has rationales in doc {doc_id} labelled both ways. "
                    "Fix: SciFact gives one label per (claim, abstract)"
                )
        claims.append(SciFactClaim(claim_id, text, {d: tuple(r) for d, r in evidence.get(claim_id, {}).items()}, cited[claim_id]))
    return claims


def _abstract(doc_id: str, title: str, body: str | tuple[str, ...]) -> Abstract:
    if isinstance(body, str):  # BEIR text: split here
        return Abstract(doc_id, title, tuple(body[s:e] for s, e in split_sentences(body)), sentences_given=False)
    return Abstract(doc_id, title, body)


def load_corpus(path: Path) -> dict[str, Abstract]:
    return {doc_id: _abstract(doc_id, title, body) for doc_id, (title, body) in read_corpus(Path(path), expected=CORPUS_FILE).items()}


def check_claims_against_corpus(claims: Sequence[SciFactClaim], corpus: Mapping[str, Abstract], claims_path: Path, corpus_path: Path) -> None:
    """Every gold evidence abstract is in the corpus and every rationale sentence inside it."""
    for claim in claims:
        for doc_id, rationales in claim.evidence.items():
            abstract = corpus.get(doc_id)
            if abstract is None:
                raise DataFormatError(
                    f"{claims_path}: claim {claim.id}: evidence doc {doc_id} is not in {corpus_path}. "
                    "Fix: pass the corpus these claims were annotated on"
                )
            beyond = sorted(i for r in rationales for i in r.sentences if i >= len(abstract.sentences))
            if abstract.sentences_given and beyond:
                raise DataFormatError(
                    f"{claims_path}: claim {claim.id}: rationale sentence {beyond[0]} of doc {doc_id}, which has "
                    f"{len(abstract.sentences)} sentences in {corpus_path}. Fix: pass the corpus these claims were annotated on"
                )
