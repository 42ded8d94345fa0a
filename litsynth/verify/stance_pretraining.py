"""Stage 1 of verifier training: stance pretraining on NLI pairs, before SciFact (stage 2).

Why: SciFact's 809 training claims teach little stance (the verifier's stance was its ceiling);
every strong SciFact system learns it from NLI-style data first (VeriSci: FEVER; MultiVerS:
FEVER, PubMedQA, Evidence Inference). Here the cross-encoder is first trained 3-way on a sample
of every NLI file (:mod:`litsynth.verify.nli_data`), a hashed slice of each held out to pick the
epoch; the test files (SciNLI test) are never trained on and only measure the stance, beside a
frozen-embedding baseline: a logistic regression over frozen MiniLM sentence vectors
``[u, v, |u - v|, u * v]`` fitted on the same training pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from litsynth.config import Settings
from litsynth.datafiles import DataFormatError
from litsynth.ids import sha256_hex
from litsynth.progress import heartbeat
from litsynth.verify.nli_data import NliPair, is_held_out, load_nli, sample
from litsynth.verify.verifiers import LABELS, TokenEncoder


@dataclass(frozen=True)
class StanceStage:
    """How stage 1 runs (configured by settings ``verifier.nli_*``, :func:`configured_stage`)."""

    folder: Path  # the NLI JSONL files
    pairs_per_file: int | None  # sampled from each training file (None: all)
    epochs: int
    test_files: tuple[str, ...] = ("scinli_test.jsonl",)  # measured only, never trained on
    test_pairs_per_file: int | None = None  # sampled from each test file (None: all)
    max_bytes: int = 50_000_000  # per file, checked before reading
    patience: int = 1
    holdout_fraction: float = 0.05  # of each training file, for picking the epoch
    learning_rate: float = 1e-3  # the new classifier
    backbone_learning_rate: float = 5e-5  # the copied backbone layers
    max_steps: int | None = None

    def recipe(self) -> dict:
        """What enters the model version: everything but where the files are."""
        return {
            "pairs_per_file": self.pairs_per_file, "epochs": self.epochs, "patience": self.patience,
            "holdout_fraction": self.holdout_fraction, "learning_rate": self.learning_rate,
            "backbone_learning_rate": self.backbone_learning_rate, "test_files": list(self.test_files), "test_pairs_per_file": self.test_pairs_per_file, "max_steps": self.max_steps,
        }


def configured_stage(settings: Settings) -> StanceStage | None:
    """Stage 1 as the settings configure it; None when ``verifier.nli_dir`` is unset (SciFact only)."""
    verifier = settings.verifier
    if verifier.nli_dir is None:
        return None
    return StanceStage(
        settings.path(verifier.nli_dir), verifier.nli_pairs_per_file, verifier.nli_epochs,
        test_files=tuple(verifier.nli_test_files), test_pairs_per_file=verifier.nli_test_pairs_per_file, max_bytes=verifier.nli_max_file_bytes,
    )


@dataclass(frozen=True)
class StancePairs:
    train: list[NliPair]
    held_out: list[NliPair]
    test: dict[str, list[NliPair]]  # file name -> pairs
    files_sha256: dict[str, str]


def stance_pairs(stage: StanceStage) -> StancePairs:
    """Every NLI file read; each training file sampled and split into training and held-out pairs."""
    by_file = load_nli(stage.folder, max_bytes=stage.max_bytes)
    missing = sorted(set(stage.test_files) - set(by_file))
    if missing:
        raise DataFormatError(f"{stage.folder}: NLI test file(s) {missing} not found; it has {sorted(by_file)}. Fix: set verifier.nli_test_files to files of the folder")
    train, held_out = [], []
    for name, pairs in by_file.items():
        if name in stage.test_files:
            continue
        chosen = sample(pairs, stage.pairs_per_file)
        train += [p for p in chosen if not is_held_out(p, stage.holdout_fraction)]
        held_out += [p for p in chosen if is_held_out(p, stage.holdout_fraction)]
    return StancePairs(
        train, held_out, {name: sample(by_file[name], stage.test_pairs_per_file) for name in stage.test_files},
        {path.name: sha256_hex(path.read_bytes()) for path in sorted(Path(stage.folder).glob("*.jsonl"))},
    )


def label_array(pairs) -> np.ndarray:
    return np.array([LABELS.index(p.label) for p in pairs], dtype=np.int64)


def _pair_vectors(token_encoder: TokenEncoder, pairs) -> np.ndarray:
    u, v = token_encoder.embed([p.claim for p in pairs]), token_encoder.embed([p.sentence for p in pairs])
    return np.concatenate([u, v, np.abs(u - v), u * v], axis=1)


def frozen_embedding_baseline(token_encoder: TokenEncoder, train, tests: dict[str, list]) -> dict[str, np.ndarray]:
    """Per test file, the predicted class (``LABELS`` index) of a logistic regression over frozen
    sentence-vector pair features, fitted on ``train``."""
    from sklearn.linear_model import LogisticRegression

    with heartbeat("frozen-embedding NLI baseline fit"):
        regression = LogisticRegression(C=1.0, max_iter=2000).fit(_pair_vectors(token_encoder, train), label_array(train))
    return {name: regression.predict(_pair_vectors(token_encoder, pairs)) for name, pairs in tests.items()}
