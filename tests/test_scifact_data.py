"""SciFact-format claim and corpus files: every published layout reads the same, bad lines are refused by name."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from litsynth.datafiles import DataFormatError
from litsynth.config import Settings
from litsynth.evaluation import beir
from litsynth.models import text_encoder
from litsynth.verify import cli_verify, scifact_eval
from litsynth.verify.scifact_data import check_claims_against_corpus, load_claims, load_corpus
from litsynth.verify.verifiers import CONTRADICTED, SUPPORTED

from .conftest import REPO_ROOT


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def official_rows(shared_data) -> list[dict]:
    return [json.loads(line) for line in (shared_data / "scifact" / "claims_train.jsonl").read_text().splitlines()]


def test_official_layout_reads_every_claim_with_its_labels(shared_data):
    claims = load_claims(shared_data / "scifact" / "claims_train.jsonl")
    assert len(claims) == 809 and len({c.id for c in claims}) == 809
    by_id = {c.id: c for c in claims}
    assert by_id[2].evidence["13734012"][0].sentences == frozenset({4}) and by_id[2].gold_label("13734012") == CONTRADICTED
    assert by_id[0].evidence == {} and by_id[0].cited_doc_ids == ("31715818",)
    labels = [c.gold_label(d) for c in claims for d in c.evidence]
    assert set(labels) == {SUPPORTED, CONTRADICTED} and labels.count(SUPPORTED) > labels.count(CONTRADICTED)


def test_hugging_face_export_reads_like_the_official_file(shared_data, official_rows, tmp_path):
    """allenai/scifact's claims config: one line per (claim, evidence set), empty fields for none."""
    flat = []
    for row in official_rows:
        sets = [(doc, r) for doc, rationales in row["evidence"].items() for r in rationales] or [("", {"label": "", "sentences": []})]
        flat += [
            {"id": row["id"], "claim": row["claim"], "evidence_doc_id": doc, "evidence_label": r["label"],
             "evidence_sentences": r["sentences"], "cited_doc_ids": row["cited_doc_ids"]}
            for doc, r in sets
        ]
    assert len(flat) > len(official_rows)  # some claims span several lines
    assert load_claims(_write_jsonl(tmp_path / "hf.jsonl", flat)) == load_claims(shared_data / "scifact" / "claims_train.jsonl")


def test_early_release_layout_takes_the_claim_level_label(official_rows, tmp_path):
    early = []
    for row in official_rows[:60]:
        label = next((r["label"] for rs in row["evidence"].values() for r in rs), "NOT_ENOUGH_INFO")
        evidence = {doc: {"sentences": sorted({i for r in rs for i in r["sentences"]})} for doc, rs in row["evidence"].items()}
        early.append({"id": row["id"], "claim": row["claim"], "label": label, "evidence": evidence, "cited_doc_ids": row["cited_doc_ids"]})
    claims = load_claims(_write_jsonl(tmp_path / "early.jsonl", early))
    for claim, row in zip(claims, official_rows[:60]):
        assert set(claim.evidence) == set(row["evidence"])
        for doc, rationales in row["evidence"].items():
            assert claim.gold_label(doc) == {"SUPPORT": SUPPORTED, "CONTRADICT": CONTRADICTED}[rationales[0]["label"]]


def test_unlabelled_test_file_reads_as_claims_without_evidence(tmp_path):
    claims = load_claims(_write_jsonl(tmp_path / "test.jsonl", [{"id": 1, "claim": "Aspirin lowers mortality."}, {"id": "2", "claim": "B"}]))
    assert [(c.id, c.evidence, c.cited_doc_ids) for c in claims] == [(1, {}, ()), (2, {}, ())]


def test_beir_corpus_is_split_into_sentences(shared_data, tmp_path):
    scifact = [json.loads(line) for line in (shared_data / "scifact" / "corpus.jsonl").read_text().splitlines()[:40]]
    beir = [{"_id": str(d["doc_id"]), "title": d["title"], "text": " ".join(d["abstract"])} for d in scifact]
    corpus = load_corpus(_write_jsonl(tmp_path / "corpus.jsonl", beir))
    assert list(corpus) == [str(d["doc_id"]) for d in scifact]
    assert not any(a.sentences_given for a in corpus.values())
    near = sum(abs(len(corpus[str(d["doc_id"])].sentences) - len(d["abstract"])) <= 2 for d in scifact)
    assert near >= 0.8 * len(scifact)  # the splitter mostly finds SciFact's own sentences
    official = load_corpus(shared_data / "scifact" / "corpus.jsonl")
    assert len(official) == 5183 and all(a.sentences_given for a in official.values())


GOOD = {"id": 7, "claim": "Aspirin lowers mortality.", "evidence": {"11": [{"sentences": [0], "label": "SUPPORT"}]}, "cited_doc_ids": [11]}


@pytest.mark.parametrize(
    ("spelling", "label"),
    [(s, SUPPORTED) for s in ("SUPPORT", "supports", "Supported")]
    + [(s, CONTRADICTED) for s in ("CONTRADICT", "contradicts", "CONTRADICTED", "refute", "REFUTES", "Refuted")],
)
def test_stance_labels_read_as_datasets_spell_them(tmp_path, spelling, label):
    """Official and Hugging Face layouts, any case: the same gold label for training and eval verify."""
    official = {**GOOD, "evidence": {"11": [{"sentences": [0], "label": spelling}]}}
    flat = {"id": 7, "claim": GOOD["claim"], "evidence_doc_id": 11, "evidence_label": spelling, "evidence_sentences": [0]}
    for row in (official, flat):
        (claim,) = load_claims(_write_jsonl(tmp_path / "claims.jsonl", [row]))
        assert claim.gold_label("11") == label


@pytest.mark.parametrize("spelling", ["NEI", "nei", "NOT_ENOUGH_INFO", "not enough info", "Not Enough Info", "NOT_ENOUGH_EVIDENCE", "not-enough-evidence"])
def test_no_evidence_labels_read_as_datasets_spell_them(tmp_path, spelling):
    """A claim-level no-evidence label (early release) and an evidence-less Hugging Face line: no gold evidence."""
    early = {"id": 7, "claim": GOOD["claim"], "label": spelling, "evidence": {}, "cited_doc_ids": [11]}
    flat = {"id": 8, "claim": "Statins cure colds.", "evidence_doc_id": "", "evidence_label": spelling, "evidence_sentences": []}
    claims = load_claims(_write_jsonl(tmp_path / "claims.jsonl", [early, flat]))
    assert [c.evidence for c in claims] == [{}, {}]
    inside = {**GOOD, "evidence": {"11": [{"sentences": [0], "label": spelling}]}}  # no evidence inside an evidence entry
    with pytest.raises(DataFormatError, match="says no evidence inside an evidence entry"):
        load_claims(_write_jsonl(tmp_path / "inside.jsonl", [inside]))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"line 2: not valid JSON .*Fix: one JSON object per line"),
        ("[1, 2]", r"line 2: expected a JSON object, got list"),
        (json.dumps({"id": 8}), r"line 2: field 'claim' must be a str, but is missing"),
        (json.dumps({"id": "eight", "claim": "x"}), r"line 2: field 'id' must be an integer claim id"),
        (json.dumps({"id": True, "claim": "x"}), r"line 2: field 'id' must be a int or str, but is a bool"),
        (json.dumps({"id": 8, "claim": "  "}), r"line 2: field 'claim' is empty"),
        (json.dumps({**GOOD, "id": 8, "evidence": {"11": [{"sentences": [0], "label": "MAYBE"}]}}), r"line 2: field 'evidence.11\[0\].label' is 'MAYBE'. Fix: use one of .*SUPPORT.*REFUTE.*NOT_ENOUGH_INFO.*\(any case\)"),
        (json.dumps({**GOOD, "id": 8, "evidence": {"11": [{"sentences": "0", "label": "SUPPORT"}]}}), r"'evidence.11\[0\].sentences' must be a list of sentence numbers"),
        (json.dumps({**GOOD, "id": 8, "evidence": {"11": [{"sentences": [-1], "label": "SUPPORT"}]}}), r"sentence numbers \(integers from 0\)"),
        (json.dumps({**GOOD, "id": 8, "evidence": ["11"]}), r"field 'evidence' must be an object"),
        (json.dumps({**GOOD, "id": 8, "cited_doc_ids": "11"}), r"field 'cited_doc_ids' must be a list of document ids"),
        (json.dumps(GOOD), r"line 2: claim id 7 also on line 1. Fix: ids must be unique"),
        (json.dumps({**GOOD, "id": 8, "evidence": {"11": [{"sentences": [0], "label": "SUPPORT"}, {"sentences": [1], "label": "CONTRADICT"}]}}), r"claim 8 has rationales in doc 11 labelled both ways"),
        (json.dumps({"id": 8, "claim": "x", "evidence": {"11": {"sentences": [0]}}}), r"evidence.11 has no label. Fix: give the claim a 'label'"),
        (json.dumps({"id": 8, "claim": "x", "evidence_doc_id": 11, "evidence_label": "", "evidence_sentences": [0]}), r"'evidence_doc_id' 11 has no 'evidence_label'"),
    ],
)
def test_a_bad_claim_line_is_refused_with_file_line_and_field(tmp_path, line, message):
    path = tmp_path / "claims.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=message) as raised:
        load_claims(path)
    assert str(raised.value).startswith(str(path))


def test_hugging_face_lines_of_one_claim_must_agree_on_its_text(tmp_path):
    rows = [{"id": 3, "claim": "A", "evidence_doc_id": "1", "evidence_label": "SUPPORT", "evidence_sentences": [0]},
            {"id": 3, "claim": "B", "evidence_doc_id": "2", "evidence_label": "SUPPORT", "evidence_sentences": [0]}]
    with pytest.raises(DataFormatError, match=r"line 2: claim id 3 has a different 'claim' text than on line 1"):
        load_claims(_write_jsonl(tmp_path / "hf.jsonl", rows))


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"title": "t", "abstract": ["s"]}, r"line 1: no 'doc_id' \(SciFact\) or '_id' \(BEIR\) field"),
        ({"doc_id": 1, "title": "t", "abstract": "one string"}, r"field 'abstract' must be a list, but is a str"),
        ({"doc_id": 1, "title": "t", "abstract": ["s", 2]}, r"field 'abstract' must be a list of sentence strings"),
        ({"doc_id": 1, "title": 5, "abstract": ["s"]}, r"field 'title' must be a string"),
        ({"_id": "1", "title": "t"}, r"field 'text' must be a str, but is missing"),
    ],
)
def test_a_bad_corpus_line_is_refused(tmp_path, record, message):
    """By the verifier's corpus reader and the BEIR benchmark's alike: they read lines with one function."""
    path = _write_jsonl(tmp_path / "corpus.jsonl", [record])
    for load in (load_corpus, beir.load_corpus):
        with pytest.raises(DataFormatError, match=message):
            load(path)
    with pytest.raises(DataFormatError, match=r"doc id '1' appears twice"):
        load_corpus(_write_jsonl(tmp_path / "twice.jsonl", [{"doc_id": 1, "abstract": ["a"]}, {"doc_id": 1, "abstract": ["b"]}]))
    with pytest.raises(DataFormatError, match=r"no documents"):
        load_corpus(_write_jsonl(tmp_path / "empty.jsonl", []))


def test_a_line_with_both_ids_is_read_as_scifact_by_both_readers(tmp_path):
    path = _write_jsonl(tmp_path / "corpus.jsonl", [{"doc_id": 7, "_id": "x", "title": "T", "abstract": ["One.", "Two."], "text": "Other."}])
    assert load_corpus(path)["7"].sentences == ("One.", "Two.")
    assert beir.load_corpus(path) == {"7": ("T", "One. Two.")}


def test_gold_evidence_must_be_in_the_corpus(tmp_path):
    claims_path = _write_jsonl(tmp_path / "claims.jsonl", [GOOD])
    claims = load_claims(claims_path)
    corpus_path = _write_jsonl(tmp_path / "corpus.jsonl", [{"doc_id": 11, "title": "t", "abstract": ["only one sentence"]}])
    check_claims_against_corpus(claims, load_corpus(corpus_path), claims_path, corpus_path)  # sentence 0 exists
    wrong = _write_jsonl(tmp_path / "other.jsonl", [{"doc_id": 12, "title": "t", "abstract": ["s"]}])
    with pytest.raises(DataFormatError, match=r"claim 7: evidence doc 11 is not in .*other.jsonl. Fix: pass the corpus these claims were annotated on"):
        check_claims_against_corpus(claims, load_corpus(wrong), claims_path, wrong)
    beyond = load_claims(_write_jsonl(tmp_path / "beyond.jsonl", [{**GOOD, "evidence": {"11": [{"sentences": [3], "label": "SUPPORT"}]}}]))
    with pytest.raises(DataFormatError, match=r"rationale sentence 3 of doc 11, which has 1 sentences"):
        check_claims_against_corpus(beyond, load_corpus(corpus_path), claims_path, corpus_path)


def test_eval_cli_refuses_a_bad_claims_file_before_loading_any_model(tmp_path, capsys, monkeypatch):
    def no_model(settings):
        raise AssertionError("a model was loaded for a file that cannot be scored")

    monkeypatch.setattr(text_encoder, "selection_encoder", no_model)
    parser = argparse.ArgumentParser()
    cli_verify.add_parser(parser.add_subparsers(dest="command"))
    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps(GOOD) + '\n{"id": 9, "claim": "x", "evidence": {"11": [{"sentences": [0], "label": "SUPPORTS?"}]}}\n')
    corpus = _write_jsonl(tmp_path / "corpus.jsonl", [{"doc_id": 11, "title": "t", "abstract": ["s"]}])
    args = parser.parse_args(["verify", "--claims", str(claims), "--corpus", str(corpus), "--out", str(tmp_path / "m.json")])
    assert cli_verify.run(args, Settings.load(REPO_ROOT)) == 2
    error = capsys.readouterr().err
    assert f"{claims}: line 2: field 'evidence.11[0].label' is 'SUPPORTS?'" in error and not (tmp_path / "m.json").exists()
