"""Shared test fixtures: the real seed corpus and the shared labelled data sets.

The shared data lives outside the project (``../shared/data`` by default) and is never
copied in; ``LITSYNTH_DATA_DIR`` points the tests at another copy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = REPO_ROOT / "corpus" / "examples"


def _shared_data_dir() -> Path:
    return Path(os.environ.get("LITSYNTH_DATA_DIR", REPO_ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS_DIR


@pytest.fixture(scope="session")
def seed_file():
    """Return the seed document whose name starts with the given prefix, e.g. ``"002"``."""

    def find(prefix: str) -> Path:
        (path,) = sorted(SEEDS_DIR.glob(f"{prefix}_*.txt"))
        return path

    return find


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = _shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path}; set LITSYNTH_DATA_DIR")
    return path


@pytest.fixture(scope="session")
def tiny_scifact_records(shared_data) -> tuple[list[dict], list[dict]]:
    """16 real SciFact claims (10 with evidence, 6 without) and their abstracts plus 30 others, as JSON records."""
    scifact = shared_data / "scifact"
    rows = [json.loads(line) for line in (scifact / "claims_train.jsonl").read_text().splitlines()]
    claims = [r for r in rows if r["evidence"]][:10] + [r for r in rows if not r["evidence"]][:6]
    needed = {str(d) for c in claims for d in [*c["evidence"], *c["cited_doc_ids"]]}
    corpus = [json.loads(line) for line in (scifact / "corpus.jsonl").read_text().splitlines()]
    return claims, [d for d in corpus if str(d["doc_id"]) in needed] + [d for d in corpus if str(d["doc_id"]) not in needed][:30]
