"""The verifier's training data: configured files first, else SciFact's release tarball, downloaded once."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize

from litsynth.verify import scifact_source
from litsynth.verify.scifact_data import load_claims, load_corpus
from litsynth.verify.scifact_source import fetch_release, locate_training_data
from orchestration.definitions import all_assets
from assets.resources import Project

from .conftest import REPO_ROOT


def _tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return path


@pytest.fixture(scope="module")
def release(tiny_scifact_records, tmp_path_factory) -> Path:
    """A tarball laid out like SciFact's data.tar.gz (data/*.jsonl), holding the tiny SciFact set (conftest)."""
    claims, docs = tiny_scifact_records

    def jsonl(records: list[dict]) -> bytes:
        return "".join(json.dumps(r) + "\n" for r in records).encode()

    folder = tmp_path_factory.mktemp("release")
    return _tarball(folder / "data.tar.gz", {
        "data/claims_train.jsonl": jsonl(claims), "data/claims_dev.jsonl": jsonl(claims[:3]), "data/corpus.jsonl": jsonl(docs),
        "data/claims_test.jsonl": jsonl([{"id": 1, "claim": "x"}]),
    })


def test_configured_files_come_first(shared_data, tmp_path):
    claims, corpus = shared_data / "scifact" / "claims_train.jsonl", shared_data / "scifact" / "corpus.jsonl"
    data = locate_training_data(claims, corpus, "https://unused.invalid/data.tar.gz", tmp_path / "download")
    assert (data.claims, data.corpus, data.found) == (claims, corpus, True) and "configured files" in data.origin
    assert not (tmp_path / "download").exists()  # nothing fetched


def test_release_is_downloaded_once_and_kept_by_name(release, tmp_path):
    download = tmp_path / "var" / "data" / "scifact"
    missing = tmp_path / "absent" / "claims_train.jsonl"
    data = locate_training_data(missing, tmp_path / "absent" / "corpus.jsonl", release.as_uri(), download)
    assert data.found and data.origin.startswith(f"SciFact release downloaded from {release.as_uri()}")
    assert sorted(p.name for p in download.iterdir()) == ["claims_dev.jsonl", "claims_train.jsonl", "corpus.jsonl"]  # claims_test skipped, no scratch left
    assert len(load_claims(data.claims)) == 16 and len(load_corpus(data.corpus)) >= 30
    again = locate_training_data(missing, tmp_path / "absent" / "corpus.jsonl", (tmp_path / "gone.tar.gz").as_uri(), download)
    assert again.found and "downloaded earlier" in again.origin and str(missing) in again.origin


def test_a_member_path_never_leaves_the_download_folder(tmp_path):
    tarball = _tarball(tmp_path / "evil.tar.gz", {"../../claims_train.jsonl": b'{"id": 1, "claim": "x"}\n', "/abs/corpus.jsonl": b'{"doc_id": 1, "abstract": ["s"]}\n'})
    fetch_release(tarball.as_uri(), tmp_path / "out" / "deep")
    assert sorted(p.name for p in (tmp_path / "out" / "deep").iterdir()) == ["claims_train.jsonl", "corpus.jsonl"]
    assert not (tmp_path / "claims_train.jsonl").exists() and not Path("/abs/corpus.jsonl").exists()


def test_without_data_the_reason_is_said(tmp_path, monkeypatch):
    absent = (tmp_path / "claims.jsonl", tmp_path / "corpus.jsonl")
    assert "no source_url to download from" in locate_training_data(*absent, None, tmp_path / "d").origin
    monkeypatch.setattr(scifact_source, "hub_reachable", lambda host: False)
    offline = locate_training_data(*absent, "https://scifact.s3-us-west-2.amazonaws.com/release/latest/data.tar.gz", tmp_path / "d")
    assert not offline.found and "scifact.s3-us-west-2.amazonaws.com is unreachable (offline)" in offline.origin
    no_corpus = _tarball(tmp_path / "no_corpus.tar.gz", {"data/claims_train.jsonl": b"{}\n"})
    assert "the tarball has no corpus.jsonl" in locate_training_data(*absent, no_corpus.as_uri(), tmp_path / "d").origin
    (tmp_path / "plain.txt").write_text("not a tarball")
    assert "not a readable tar archive" in locate_training_data(*absent, (tmp_path / "plain.txt").as_uri(), tmp_path / "d").origin
    failed = locate_training_data(*absent, (tmp_path / "nowhere.tar.gz").as_uri(), tmp_path / "d")
    assert not failed.found and "the download from" in failed.origin and "failed" in failed.origin
    assert not [p for p in (tmp_path / "d").iterdir()]  # no half-written file or scratch folder left


def test_verifier_model_asset_trains_from_the_downloaded_release(release, tmp_path):
    verifier = {
        "claims": str(tmp_path / "absent" / "claims_train.jsonl"), "corpus": str(tmp_path / "absent" / "corpus.jsonl"),
        "source_url": release.as_uri(), "download_dir": str(tmp_path / "download"), "model_dir": str(tmp_path / "models"),
    }
    settings = {"warehouse": {"path": str(tmp_path / "warehouse.duckdb")}, "arxiv": {"enabled": False}}
    resources = {"project": Project(project_root=str(REPO_ROOT), overrides={**settings, "verifier": verifier})}
    result = materialize(all_assets, selection=["verifier_model"], resources=resources, instance=DagsterInstance.ephemeral())
    assert result.success
    (materialization,) = result.asset_materializations_for_node("verifier_model")
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["status"] == "trained" and metadata["training_data"].startswith("SciFact release downloaded from")
    assert (tmp_path / "models" / metadata["version"] / "card.json").is_file()

    offline = Project(project_root=str(REPO_ROOT), overrides={
        **settings, "verifier": {**verifier, "source_url": None, "download_dir": str(tmp_path / "empty")},
    })
    result = materialize(all_assets, selection=["verifier_model"], resources={**resources, "project": offline}, instance=DagsterInstance.ephemeral())
    (materialization,) = result.asset_materializations_for_node("verifier_model")
    assert materialization.metadata["status"].value == "no training data: verifications use the baseline"
    assert "no source_url to download from" in materialization.metadata["training_data"].value
