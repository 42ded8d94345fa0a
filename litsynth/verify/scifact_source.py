"""Where the verifier's training data comes from: the configured files, else SciFact's release.

Offline (this project's machines) the configured files are the shared SciFact copy. A user
online without them gets the public release (``VerifierSettings.source_url``, the tarball the
SciFact repository's ``download-data.sh`` fetches), downloaded once into the download folder;
its ``claims_dev.jsonl`` comes along for evaluation. Without either, the pipeline keeps the
transparent baseline and says why (:attr:`TrainingData.origin`).
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from litsynth.models.text_encoder import hub_reachable

RELEASE_CLAIMS, RELEASE_CORPUS = "claims_train.jsonl", "corpus.jsonl"
RELEASE_FILES = (RELEASE_CLAIMS, "claims_dev.jsonl", RELEASE_CORPUS)  # kept from the tarball; the rest is skipped
DOWNLOAD_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class TrainingData:
    claims: Path | None
    corpus: Path | None
    origin: str  # where the files came from, or why there are none

    @property
    def found(self) -> bool:
        return self.claims is not None and self.corpus is not None


def fetch_release(url: str, download_dir: Path) -> Path:
    """Download the release tarball and keep its :data:`RELEASE_FILES` (regular files, matched
    by name wherever the tarball puts them, never extracted by their own paths) in
    ``download_dir``. Each file is written whole or not at all. Raises OSError (network, disk)
    or ValueError (a tarball without the claims or corpus)."""
    download_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=download_dir, prefix=".download-") as scratch:
        archive = Path(scratch) / "release.tar.gz"
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, archive.open("wb") as out:  # noqa: S310 (configured URL)
            shutil.copyfileobj(response, out)
        try:
            with tarfile.open(archive, "r:*") as tar:
                members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile() and Path(m.name).name in RELEASE_FILES}
                missing = [name for name in (RELEASE_CLAIMS, RELEASE_CORPUS) if name not in members]
                if missing:
                    raise ValueError(f"{url}: the tarball has no {' or '.join(missing)}. Fix: point verifier source_url at SciFact's data.tar.gz")
                for name, member in members.items():
                    partial = Path(scratch) / name
                    with tar.extractfile(member) as data, partial.open("wb") as out:
                        shutil.copyfileobj(data, out)
                    partial.replace(download_dir / name)
        except tarfile.TarError as exc:
            raise ValueError(f"{url}: not a readable tar archive ({exc}). Fix: point verifier source_url at SciFact's data.tar.gz") from exc
    return download_dir


def locate_training_data(claims: Path, corpus: Path, source_url: str | None, download_dir: Path) -> TrainingData:
    """The configured files when both exist; else the release's, downloaded once when reachable."""
    if claims.is_file() and corpus.is_file():
        return TrainingData(claims, corpus, f"configured files {claims} and {corpus}")
    missing = ", ".join(str(p) for p in (claims, corpus) if not p.is_file())
    downloaded = (download_dir / RELEASE_CLAIMS, download_dir / RELEASE_CORPUS)
    if all(p.is_file() for p in downloaded):
        return TrainingData(*downloaded, f"SciFact release downloaded earlier to {download_dir} ({missing} not found)")
    if not source_url:
        return TrainingData(None, None, f"no training data: {missing} not found and no source_url to download from")
    parsed = urllib.parse.urlparse(source_url)
    if parsed.scheme in ("http", "https") and not hub_reachable(parsed.hostname or ""):
        return TrainingData(None, None, f"no training data: {missing} not found and {parsed.hostname} is unreachable (offline)")
    try:
        fetch_release(source_url, download_dir)
    except (OSError, ValueError) as exc:
        return TrainingData(None, None, f"no training data: {missing} not found and the download from {source_url} failed: {exc}")
    return TrainingData(*downloaded, f"SciFact release downloaded from {source_url} to {download_dir}")
