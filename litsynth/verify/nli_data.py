"""NLI pairs for the verifier's stance pretraining (stage 1), read strictly (:mod:`litsynth.datafiles`).

Every ``*.jsonl`` of the NLI folder holds one pair a line: ``{"premise", "hypothesis", "label"}``
with label ``entailment`` / ``neutral`` / ``contradiction`` (ANLI, SNLI, XNLI, MultiNLI, SciNLI in
``../shared/data/nli``). A pair reads as (claim = hypothesis, evidence sentence = premise) and
its label as the verifier's: entailment -> supported, contradiction -> contradicted, neutral ->
not enough evidence. Files are bounded (``max_bytes``) before they are read, and a bad line
stops the load naming the file, the line, the field and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from litsynth.datafiles import DataFormatError, jsonl_records, required_field
from litsynth.ids import sha256_hex
from litsynth.verify.verifiers import CONTRADICTED, NEI, SUPPORTED, Label

NLI_LABELS: dict[str, Label] = {"entailment": SUPPORTED, "contradiction": CONTRADICTED, "neutral": NEI}
NLI_FILE = "an NLI JSONL: one {premise, hypothesis, label: entailment | neutral | contradiction} per line"


@dataclass(frozen=True)
class NliPair:
    claim: str  # the hypothesis
    sentence: str  # the premise
    label: Label
    source: str  # file name
    line: int


def nli_files(folder: Path) -> list[Path]:
    """Every ``*.jsonl`` of the folder, by name; a missing or empty folder is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataFormatError(f"{folder}: NLI folder not found. Fix: point verifier.nli_dir at a folder of NLI JSONL files")
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise DataFormatError(f"{folder}: no *.jsonl files. Fix: put {NLI_FILE} there")
    return files


def load_nli_file(path: Path, *, max_bytes: int) -> list[NliPair]:
    """Every pair of one NLI file, in file order."""
    path = Path(path)
    if path.is_file() and path.stat().st_size > max_bytes:
        raise DataFormatError(f"{path}: {path.stat().st_size:,} bytes, over the {max_bytes:,}-byte limit. Fix: raise verifier.nli_max_file_bytes or split the file")
    pairs = []
    for number, record in jsonl_records(path, expected=NLI_FILE):
        texts = {}
        for field in ("premise", "hypothesis"):
            texts[field] = required_field(path, number, record, field, str).strip()
            if not texts[field]:
                raise DataFormatError(f"{path}: line {number}: field {field!r} is empty. Fix: give the pair's text or drop the line")
        label = record.get("label")
        if label not in NLI_LABELS:
            raise DataFormatError(f"{path}: line {number}: field 'label' is {label!r}. Fix: use one of {', '.join(NLI_LABELS)}")
        pairs.append(NliPair(texts["hypothesis"], texts["premise"], NLI_LABELS[label], path.name, number))
    if not pairs:
        raise DataFormatError(f"{path}: no pairs. Fix: put {NLI_FILE} there or remove the file")
    return pairs


def load_nli(folder: Path, *, max_bytes: int) -> dict[str, list[NliPair]]:
    """File name -> its pairs, for every NLI file of the folder."""
    return {path.name: load_nli_file(path, max_bytes=max_bytes) for path in nli_files(folder)}


def is_held_out(pair: NliPair, fraction: float) -> bool:
    """Deterministic hold-out of a slice of each file (hash of file name and line), for model selection."""
    return int(sha256_hex(f"nli-holdout:{pair.source}:{pair.line}")[:8], 16) / 16**8 < fraction


def sample(pairs: Sequence[NliPair], n: int | None) -> list[NliPair]:
    """Up to ``n`` pairs (None: all) chosen by a hash of their place, so a file's sample is the same every run."""
    if n is None or len(pairs) <= n:
        return list(pairs)
    return sorted(pairs, key=lambda p: sha256_hex(f"nli-sample:{p.source}:{p.line}"))[:n]
