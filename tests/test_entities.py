"""Entity-aware verification, cross-paper relations, question concepts and the inverse cloze
protocol, on hand-written abstracts."""

from __future__ import annotations

import pytest

from litsynth.concepts import coverage, question_concepts
from litsynth.entities import claim_subject, evidence_about, own_systems, passage_systems
from litsynth.evaluation.question_retrieval import ClaimSpan, cloze_dataset
from litsynth.relations import RelationClaim, is_change, relation_rows
from litsynth.claims import parse_quantities
from litsynth.verify.verdicts import ClaimToVerify, verify_claims
from litsynth.verify.evidence import EvidenceRetriever, Passage
from litsynth.verify.verifiers import BaselineVerifier

from .conftest import REPO_ROOT

UNIME = ("UniME-V2: MLLM-as-a-Judge for Universal Multimodal Embedding Learning",
         "We propose UniME-V2, a universal multimodal embedding model trained with judge-scored hard negatives. "
         "Our method achieves state-of-the-art performance on average across all tasks of the MMEB benchmark.")
MMEMBED = ("MM-Embed: Universal Multimodal Retrieval with Multimodal LLMs",
           "We present MM-Embed, a multimodal retriever. "
           "Our method achieves state-of-the-art performance on average across all tasks of the MMEB benchmark.")
SURVEY = ("A Survey of Multimodal Embedding Models",
          "UniME-V2 achieves state-of-the-art performance on average across all tasks of the MMEB benchmark.")
SYSTEMS = {"unime": own_systems(*UNIME), "mmembed": own_systems(*MMEMBED), "survey": own_systems(*SURVEY)}


def test_own_systems_come_from_the_title_or_the_abstract():
    assert own_systems(*UNIME) == ("UniME-V2",)
    assert own_systems("Qwen3-VL-Embedding and Qwen3-VL-Reranker: A Unified Framework", "") == ("Qwen3-VL-Embedding", "Qwen3-VL-Reranker")
    assert own_systems("Improving multimodal retrieval", "In this paper we propose MM-Embed, a retriever.") == ("MM-Embed",)
    assert own_systems(*SURVEY) == ()
    assert own_systems("Vision-Language Models for retrieval: a study", "We study how models retrieve.") == ()


def test_claim_scope_and_self_reference_resolution():
    own = claim_subject("Our method achieves state-of-the-art performance on MMEB.", ["UniME-V2"])
    assert (own.scope, own.systems) == ("own", ("UniME-V2",))
    assert [(e.kind, e.name, e.resolved_from) for e in own.entities] == [("dataset", "MMEB", None), ("system", "UniME-V2", "Our")]
    named = claim_subject("The Qwen3-VL-Embedding series achieves state-of-the-art results across multimodal benchmarks.", [])
    assert (named.scope, named.systems) == ("named", ("Qwen3-VL-Embedding",))
    comparison = claim_subject("CLIP outperforms BLIP on MSCOCO in R@1.", [])
    assert (comparison.scope, comparison.systems) == ("comparison", ("CLIP", "BLIP"))
    general = claim_subject("LLM-based retrievers are costly to train on large image-text corpora.", [])
    assert (general.scope, general.systems) == ("general", ())
    unnamed = claim_subject("We find that hard negatives matter most.", [])
    assert unnamed.scope == "own" and unnamed.systems == ()
    finding = ["Training on more image-text pairs raised R@1 on MSCOCO by 4 points."]
    assert evidence_about(unnamed, {"clip"}, finding) == (False, "the claim is about its own paper's unnamed contribution; another paper cannot report on it")
    assert evidence_about(general, set(), finding)[0] and evidence_about(comparison, set(), finding)[0]
    # a sentence that describes what its own paper does supports no general claim
    method = ["In this work, we conduct a comprehensive comparison between CL and SFT for reranking."]
    assert evidence_about(general, set(), method) == (False, "the evidence sentence states no finding (it describes its own paper's work or context)")


def test_a_passage_saying_we_is_about_its_own_papers_system():
    assert passage_systems(MMEMBED[1], SYSTEMS["mmembed"]) == {"mmembed", "mmeb"}  # a dataset may be a paper's contribution
    assert passage_systems("Hard negatives are mined with a judge model.", SYSTEMS["mmembed"]) == set()
    assert passage_systems(SURVEY[1], (), ["UniME-V2"]) == {"unimev2", "mmeb"}


@pytest.fixture(scope="module")
def verify():
    """Verify one claim of ``paper_id`` against the other hand-written papers of ``corpus``."""
    from litsynth.config import Settings
    from litsynth.models.text_encoder import selection_encoder

    encoder = selection_encoder(Settings.load(REPO_ROOT))
    texts = {"unime": UNIME[1], "mmembed": MMEMBED[1], "survey": SURVEY[1]}

    def run(paper_id: str, text: str, subject, corpus: tuple[str, ...]) -> dict:
        retriever = EvidenceRetriever([Passage(f"{p}-1", p, texts[p]) for p in corpus], encoder)
        try:
            claim = ClaimToVerify("c", paper_id, text, text, subject)
            rows = verify_claims("q", [claim], retriever, BaselineVerifier(encoder), encoder, verifier_name="baseline", paper_systems=SYSTEMS)
        finally:
            retriever.close()
        return rows.to_dicts()[0]

    return run


SELF_CLAIM = "Our method achieves state-of-the-art performance on average across all tasks of the MMEB benchmark."


def test_a_self_referential_claim_is_not_supported_by_another_papers_different_system(verify):
    row = verify("unime", SELF_CLAIM, claim_subject(SELF_CLAIM, SYSTEMS["unime"]), ("unime", "mmembed"))
    assert row["claim_scope"] == "own"
    assert row["label"] == "not_enough_evidence"
    assert row["evidence_paper_id"] == "mmembed"  # the passage set aside is shown
    assert row["reason"] == "the verifier read this passage as supported, set aside: the evidence is not about UniME-V2"
    # the same claim read as a general statement is supported by that passage: the rule, not the verifier, decided
    assert verify("unime", SELF_CLAIM, claim_subject("Hard negatives help.", []), ("unime", "mmembed"))["label"] == "supported"
    # a third paper reporting on UniME-V2 itself does count
    row = verify("unime", SELF_CLAIM, claim_subject(SELF_CLAIM, SYSTEMS["unime"]), ("unime", "mmembed", "survey"))
    assert (row["label"], row["evidence_paper_id"]) == ("supported", "survey")


def test_a_named_system_claim_is_supported_by_a_paper_evaluating_that_system(verify):
    text = SURVEY[1]
    row = verify("survey", text, claim_subject(text, SYSTEMS["survey"], ["UniME-V2", "MM-Embed"]), ("unime", "mmembed", "survey"))
    assert (row["claim_scope"], row["label"], row["evidence_paper_id"]) == ("named", "supported", "unime")
    assert row["reason"] == "supported by the verifier; the evidence is about UniME-V2 too"


def _claim(claim_id: str, paper_id: str, text: str, own=()) -> RelationClaim:
    return RelationClaim(claim_id, paper_id, text, claim_subject(text, own, ["CLIP", "BLIP"]))


def test_different_figures_for_one_system_benchmark_and_metric_are_a_conflict():
    claims = [
        _claim("a", "p1", "CLIP reaches an R@1 of 58.4 on MSCOCO."),
        _claim("b", "p2", "In our reproduction, CLIP reaches an R@1 of 52.1 on MS-COCO."),
        _claim("c", "p3", "CLIP obtains an R@1 of 58.4 on MSCOCO in the zero-shot setting."),
        _claim("d", "p4", "BLIP reaches an R@1 of 80.6 on MSCOCO."),
        _claim("e", "p5", "Fine-tuning improves R@1 by 3.2 on MSCOCO over CLIP."),  # a change, never compared
        _claim("f", "p1", "CLIP reaches an R@1 of 60.0 on MSCOCO with prompt ensembling."),  # same paper as a: not a relation
    ]
    rows = relation_rows("q", claims, [], {}).to_dicts()
    relations = {(r["claim_id"], r["other_claim_id"]): (r["relation"], r["shared_entity"]) for r in rows}
    assert relations[("a", "b")] == ("conflicts", "CLIP")
    assert relations[("a", "c")] == ("corroborates", "CLIP")
    assert relations[("b", "c")] == ("conflicts", "CLIP")
    assert relations[("a", "d")] == ("same_benchmark_different_results", None)
    assert not any("e" in pair for pair in relations) and ("a", "f") not in relations
    conflict = next(r for r in rows if (r["claim_id"], r["other_claim_id"]) == ("a", "b"))
    assert (conflict["benchmark"], conflict["metric"], conflict["claim_quantity"], conflict["other_quantity"]) == ("MSCOCO", "R@1", "CLIP: 58.4", "CLIP: 52.1")
    assert conflict["score"] == pytest.approx((58.4 - 52.1) / 58.4)


def test_our_method_figures_belong_to_the_papers_own_system():
    text = "Our method reaches an R@1 of 61.0 on MSCOCO."
    rows = relation_rows("q", [_claim("a", "p1", text, ("UniME-V2",)), _claim("b", "p2", "UniME-V2 reaches an R@1 of 59.0 on MSCOCO.")], [], {}).to_dicts()
    assert [(r["relation"], r["shared_entity"]) for r in rows] == [("conflicts", "UniME-V2")]
    (q,) = parse_quantities("Fine-tuning improves R@1 by 3.2 on MSCOCO.")
    assert is_change("Fine-tuning improves R@1 by 3.2 on MSCOCO.", q)


def test_verdicts_relate_a_claim_to_the_claims_in_its_evidence_passage():
    claims = [_claim("a", "p1", "CLIP is vulnerable to adversarial images."), _claim("b", "p2", "Adversarial images fool CLIP easily.")]
    claims.append(_claim("c", "p2", "CLIP was released in 2021 by a large lab."))  # in the passage, not in the evidence
    verdicts = [{"claim_id": "a", "label": "supported", "confidence": 0.8, "evidence_chunk_id": "k2", "evidence_text": "Adversarial images fool CLIP easily."}]
    (row,) = relation_rows("q", claims, verdicts, {"k2": ["b", "c"]}).to_dicts()
    assert (row["relation"], row["basis"], row["other_claim_id"], row["shared_entity"], row["score"]) == ("corroborates", "verdict", "b", "CLIP", 0.8)


def test_question_concepts_and_what_covers_them():
    question = ("Can the one-to-many relationship-based defense strategy scale effectively to larger multimodal models "
                "(e.g., CLIP, BLIP) without degrading performance on standard retrieval metrics (R@1, R@5, R@10) on the SBU and MSCOCO benchmarks?")
    concepts = question_concepts("q", question, ["CLIP", "adversarial defense"])
    texts = [c.text for c in concepts]
    assert texts[:3] == ["CLIP", "adversarial defense", "BLIP"]
    assert "one-to-many relationship-based defense strategy" in texts and "R@1" in texts and "SBU" in texts
    papers = [("clip", "CLIP learns from image-text pairs and reaches Recall@1 of 58.4 on MS-COCO."),
              ("attack", "We study adversarial attacks and a defense for CLIP.")]
    rows = coverage("q", concepts, papers, [("c1", "attack", "We propose an adversarial defense for CLIP.")]).to_dicts()
    covered = {(next(c.text for c in concepts if c.concept_id == r["concept_id"]), r["item_type"], r["item_id"]) for r in rows}
    assert ("CLIP", "paper", "clip") in covered and ("adversarial defense", "paper", "attack") in covered
    assert ("adversarial defense", "claim", "c1") in covered
    assert ("R@1", "paper", "clip") in covered and ("MSCOCO", "paper", "clip") in covered  # one entity, another spelling
    assert ("R@5", "paper", "clip") not in covered
    assert not any(text == "one-to-many relationship-based defense strategy" for text, _, _ in covered)
    # metric names in any case: MM-R5's abstract writes "recall@1", the question "R@1"
    lower = coverage("q", concepts, [("mmr5", "MM-R5 improves recall@1 by over 4% and ndcg@10 too.")], []).to_dicts()
    assert {next(c.text for c in concepts if c.concept_id == r["concept_id"]) for r in lower} == {"R@1"}


def test_no_inverse_cloze_query_is_a_substring_of_its_relevant_passage():
    first = "UniME-V2 mines hard negatives with a judge model. It reaches 60.1 on MMEB. Training takes two days on eight GPUs."
    second = "MM-Embed fine-tunes a multimodal LLM as a retriever with modality-aware hard negatives on M-BEIR and more."
    chunks = {"k1": (100, first), "k2": (0, second)}
    spans = []
    for chunk_id, (offset, text) in chunks.items():
        for sentence in [s.strip() + "." for s in text.split(".") if s.strip()]:
            start = offset + text.index(sentence)
            spans.append(ClaimSpan(f"{chunk_id}:{start}", sentence, chunk_id, start, start + len(sentence)))
    cloze = cloze_dataset(chunks, spans)
    dataset = cloze.dataset
    assert set(dataset.queries) == {s.claim_id for s in spans if s.chunk_id == "k1"}  # the one-sentence passage has no context
    for query_id, query in dataset.queries.items():
        (relevant,) = dataset.qrels[query_id]
        assert query.casefold() not in dataset.corpus[relevant][1].casefold()
        assert relevant not in cloze.leaks[query_id]
        # every context holding the query sentence is left out of its ranking
        assert cloze.leaks[query_id] == {d for d, (_, text) in dataset.corpus.items() if query.casefold() in text.casefold()}
    assert dataset.corpus["context:k1:100"][1] == "It reaches 60.1 on MMEB. Training takes two days on eight GPUs."
