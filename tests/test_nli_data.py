"""NLI files for stage 1: every shared file reads with its labels mapped, bad files are refused by name."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from litsynth.config import Settings, project_root
from litsynth.datafiles import DataFormatError
from litsynth.verify.nli_data import is_held_out, load_nli, load_nli_file, nli_files, sample
from litsynth.verify.stance_pretraining import configured_stage, stance_pairs
from litsynth.verify.verifiers import CONTRADICTED, NEI, SUPPORTED

NLI_FILES = ["anli.jsonl", "mnli_taxinli.jsonl", "scinli_dev.jsonl", "scinli_test.jsonl", "scinli_train_human.jsonl", "snli.jsonl", "xnli_en.jsonl"]


def test_every_shared_nli_file_reads_with_its_labels_mapped(shared_data):
    folder = shared_data / "nli"
    assert [p.name for p in nli_files(folder)] == NLI_FILES
    by_file = load_nli(folder, max_bytes=50_000_000)
    assert list(by_file) == NLI_FILES
    for name, pairs in by_file.items():
        lines = (folder / name).read_text(encoding="utf-8").splitlines()
        assert len(pairs) == sum(1 for line in lines if line.strip()), name
        first = json.loads(lines[0])
        assert (pairs[0].claim, pairs[0].sentence, pairs[0].source, pairs[0].line) == (first["hypothesis"].strip(), first["premise"].strip(), name, 1)
        expected = {"entailment": SUPPORTED, "contradiction": CONTRADICTED, "neutral": NEI}
        assert Counter(p.label for p in pairs) == Counter(expected[json.loads(line)["label"]] for line in lines if line.strip()), name
        held = [p for p in pairs if is_held_out(p, 0.05)]
        assert 0.03 < len(held) / len(pairs) < 0.07, name  # a slice of every file
    assert sum(len(p) for p in by_file.values()) > 50_000


def test_the_configured_stage_reads_the_shared_folder_and_never_trains_on_the_test_file(shared_data):
    settings = Settings(project_root=project_root())
    stage = configured_stage(settings)
    assert stage.folder.resolve() == (shared_data / "nli").resolve() and stage.test_files == ("scinli_test.jsonl",)
    pairs = stance_pairs(stage)
    assert {p.source for p in pairs.train} == {p.source for p in pairs.held_out} == set(NLI_FILES) - {"scinli_test.jsonl"}
    assert not {(p.source, p.line) for p in pairs.train} & {(p.source, p.line) for p in pairs.held_out}
    assert all(n <= stage.pairs_per_file for n in Counter(p.source for p in pairs.train + pairs.held_out).values())
    assert len(pairs.test["scinli_test.jsonl"]) == stage.test_pairs_per_file == 1000 and sorted(pairs.files_sha256) == NLI_FILES
    assert configured_stage(Settings(project_root=project_root(), verifier={"nli_dir": None})) is None


def test_sampling_is_deterministic_and_bounded(shared_data):
    pairs = load_nli_file(shared_data / "nli" / "anli.jsonl", max_bytes=50_000_000)
    assert sample(pairs, 100) == sample(list(reversed(pairs)), 100) and len(sample(pairs, 100)) == 100
    assert sample(pairs, None) == pairs


GOOD = {"premise": "The model was trained on 10k pairs.", "hypothesis": "The model saw training data.", "label": "entailment"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{oops", r"line 2: not valid JSON .*Fix: one JSON object per line"),
        (json.dumps({**GOOD, "label": "entails"}), r"line 2: field 'label' is 'entails'. Fix: use one of entailment, contradiction, neutral"),
        (json.dumps({**GOOD, "label": "SUPPORTS"}), r"line 2: field 'label' is 'SUPPORTS'"),
        (json.dumps({"hypothesis": "x", "label": "neutral"}), r"line 2: field 'premise' must be a str, but is missing"),
        (json.dumps({**GOOD, "hypothesis": "  "}), r"line 2: field 'hypothesis' is empty. Fix:"),
    ],
)
def test_a_bad_nli_line_is_refused_with_file_line_field_and_fix(tmp_path, line, message):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=message) as raised:
        load_nli(tmp_path, max_bytes=10_000)
    assert str(raised.value).startswith(str(path))


def test_nli_folders_and_files_are_bounded_and_checked(tmp_path):
    with pytest.raises(DataFormatError, match=r"NLI folder not found. Fix: point verifier.nli_dir"):
        nli_files(tmp_path / "missing")
    with pytest.raises(DataFormatError, match=r"no \*.jsonl files"):
        nli_files(tmp_path)
    big = tmp_path / "big.jsonl"
    big.write_text((json.dumps(GOOD) + "\n") * 100, encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"big.jsonl: .* bytes, over the 1,000-byte limit. Fix: raise verifier.nli_max_file_bytes"):
        load_nli_file(big, max_bytes=1_000)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"empty.jsonl: no pairs"):
        load_nli_file(empty, max_bytes=1_000)
    assert len(load_nli_file(big, max_bytes=big.stat().st_size)) == 100


def test_a_missing_test_file_is_named(tmp_path):
    from litsynth.verify.stance_pretraining import StanceStage

    (tmp_path / "a.jsonl").write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"NLI test file\(s\) \['scinli_test.jsonl'\] not found; it has \['a.jsonl'\]"):
        stance_pairs(StanceStage(Path(tmp_path), pairs_per_file=10, epochs=1))
