"""The content-sniffing parsers, on the real seed files, the shared data sets, generated PDFs and
every failure path a user can hit."""

from __future__ import annotations

import codecs
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from litsynth.ingest import parse_bytes, parse_file
from litsynth.records import PaperRecord, ParseError, ParseResult

SEEDS = sorted((Path(__file__).resolve().parents[1] / "corpus" / "examples").glob("*.txt"))


def by_title(result: ParseResult, start: str) -> PaperRecord:
    (paper,) = [p for p in result.papers if p.title.startswith(start)]
    return paper


def parse_text(text: str, name: str = "input.txt") -> ParseResult:
    return parse_bytes(text.encode("utf-8"), name=name)


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]], *, title: str | None = None) -> bytes:
    """A minimal valid PDF, written by hand: one Helvetica text line per list item."""
    page_ids = [5 + 2 * i for i in range(len(pages))]
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] /Count {len(pages)} >>".encode(),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        4: f"<< /Title ({_pdf_string(title)}) >>".encode() if title else b"<< >>",
    }
    for i, lines in enumerate(pages):
        stream = ("BT /F1 11 Tf 14 TL 72 740 Td " + " ".join(f"({_pdf_string(s)}) Tj T*" for s in lines) + " ET").encode()
        objects[5 + 2 * i] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {6 + 2 * i} 0 R >>"
        ).encode()
        objects[6 + 2 * i] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref, size = len(out), max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, size))
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


PAPER_PDF_PAGES = [
    [
        "arXiv:2505.21439v2 [cs.IR] 27 May 2025",
        "Towards Better Instruction Following Retrieval Models",
        "Abstract",
        "Modern retrieval models struggle to follow",
        "explicit user instructions.",
        "1 Introduction",
        "Retrieval has a long history.",
    ],
    ["Results on page two: nDCG@10 rises by 8.1 points."],
]


# --- seed 002: listing page with blank-line blocks and meta lines --------------------------------


@pytest.fixture(scope="module")
def listing_002(seed_file) -> ParseResult:
    return parse_file(seed_file("002"))


def test_listing_002_extracts_all_38_papers_in_order(listing_002):
    assert listing_002.format == "listing_page"
    assert len(listing_002.papers) == 38  # counted by hand: 38 "·" meta separators, one per paper
    assert listing_002.papers[0].title == "F4-ITS: Fine-grained Feature Fusion for Food Image-Text Search"
    assert listing_002.papers[-1].title == "MM-Embed: Universal Multimodal Retrieval with Multimodal LLMs"
    assert listing_002.papers[-1].published == "2024-11-04"
    assert listing_002.papers[-1].abstract.endswith("universal multimodal retrieval in the future.")
    assert listing_002.skipped == []


def test_listing_002_fields(listing_002):
    f4 = by_title(listing_002, "F4-ITS")
    assert f4.published == "2025-08-23"
    assert f4.abstract.startswith("The proliferation of digital food content has intensified the need")
    assert f4.abstract.endswith("https://github.com/mailcorahul/f4-its")
    assert f4.organisation is None and f4.authors == ()
    # "Aug 14, 2023 1": the trailing number is the upvote count, not part of the date
    assert by_title(listing_002, "Global Features are All You Need").published == "2023-08-14"
    # "Jan 8" has no year, so no date is made up
    assert by_title(listing_002, "Multivector Reranking").published is None
    assert by_title(listing_002, "Qwen3-VL-Embedding").published is None
    # the page's own date "Jan 28" above the first paper is not a paper
    assert by_title(listing_002, "Contrastive Learning and Mixture of Experts").published == "2024-01-28"


def test_listing_002_organisations(listing_002):
    organisations = {p.title.split(":")[0]: p.organisation for p in listing_002.papers if p.organisation}
    assert organisations == {
        "GroupRank": "AQ-MedAI AQ",  # handle and name differ, so kept as printed
        "E^2Rank": "Alibaba-NLP",  # "Alibaba-NLP Alibaba-NLP" de-duplicated
        "MERIT": "ByteDance",
        "Qwen3-VL-Embedding and Qwen3-VL-Reranker": "Qwen",
    }


def test_listing_002_has_no_boilerplate_or_meta_as_papers(listing_002):
    for paper in listing_002.papers:
        assert paper.abstract and len(paper.abstract) > 500
        assert len(paper.title) < 200
        assert "authors" not in paper.title and paper.title not in {"·", "new", "Subscribe", "Daily Papers", "Jan 28"}
        assert "Get trending" not in paper.title and "byAK" not in paper.title


# --- seed 003: alternating title / abstract lines ------------------------------------------------


def test_listing_003_extracts_all_20_papers(seed_file):
    result = parse_file(seed_file("003"))
    assert result.format == "listing_page"
    assert len(result.papers) == 20  # 40 content lines after the two header lines: 20 pairs
    first, last = result.papers[0], result.papers[-1]
    # "Subscribe" is glued onto the first title on the page
    assert first.title == "Optimizing CLIP Models for Image Retrieval with Maintained Joint-Embedding Alignment"
    assert first.abstract.startswith("Contrastive Language and Image Pairing (CLIP), a transformative method")
    assert last.title == "AgentPoison: Red-teaming LLM Agents via Poisoning Memory or Knowledge Bases"
    assert last.abstract.startswith("LLM agents have demonstrated remarkable performance")
    assert last.abstract.endswith("with a poison rate less than 0.1%.")
    assert by_title(result, "A$^2$ATS").abstract.startswith("Long context large language models (LLMs)")
    assert all(p.published is None and p.organisation is None for p in result.papers)
    assert not any("trending" in p.title or "Subscribe" in p.title for p in result.papers)


# --- seed 001: a single paper page ---------------------------------------------------------------


def test_paper_page_001(seed_file):
    result = parse_file(seed_file("001"))
    assert result.format == "paper_page"
    (paper,) = result.papers
    assert paper.title == "Towards Better Instruction Following Retrieval Models"
    assert (paper.arxiv_id, paper.arxiv_version) == ("2505.21439", 1)  # "v15 citations" = v1 + 5 citations
    assert paper.published == "2025-05-27"
    assert paper.abstract.startswith("Modern information retrieval (IR) models, trained exclusively on standard")
    assert paper.abstract.endswith("measuring the instruction-following capabilities.")
    assert paper.ai_summary.startswith("This addresses the challenge of making retrieval models better follow")
    assert "The paper tackles the problem" in paper.ai_summary
    assert "Modern information retrieval" not in paper.ai_summary
    assert "This addresses" not in paper.abstract and "The paper tackles" not in paper.abstract
    for ui_text in ("Foundations", "Your Notes", "foundational work", "AI Analysis", "Originality"):
        assert ui_text not in paper.abstract and ui_text not in paper.ai_summary


def test_paper_page_with_plain_version_and_no_summary():
    text = "CLIRMay 27, 2025\n\nA Title\n\narXiv:2505.21439v12\n\nThe abstract, in two\nwrapped lines.\n\nYour Notes\n"
    (paper,) = parse_text(text).papers
    assert (paper.arxiv_id, paper.arxiv_version) == ("2505.21439", 12)
    assert paper.abstract == "The abstract, in two wrapped lines."
    assert paper.ai_summary is None


# --- seeds 000 and 004: machine-written synthesis reports ----------------------------------------


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (
            "000",
            dict(
                title="Scaling One-to-Many Defense Strategies in Multimodal Models Without Retrieval Performance Loss",
                question=(
                    "Can the one-to-many relationship-based defense strategy scale effectively to larger multimodal "
                    "models (e.g., CLIP, BLIP) without degrading performance on standard retrieval metrics "
                    "(R@1, R@5, R@10) on the SBU and MSCOCO benchmarks?"
                ),
                date="2026-06-07",
                claims=10,
                first_claim=(
                    "The proposed marginal negative sampling strategy reduces computational complexity from "
                    "combinatorial to linear, specific"
                ),
                confidences=[0.04, 0.04, 0.03, 0.02, 0.13, 0.04, 0.04, 0.04, 0.05, 0.05],
                references=("2505.21439", "2405.18770", "2403.09513"),
                score=4.2,
                subject="Towards Better Instruction Following Retrieval Models",
            ),
        ),
        (
            "004",
            dict(
                title="Alignment-Driven Fine-Tuning and Contrastive Pre-Training in Multimodal Dense Retrieval",
                question=(
                    "What is the comparative impact of alignment-driven fine-tuning versus contrastive pre-training "
                    "on the multimodal retrieval performance of dense encoders across heterogeneous benchmark datasets?"
                ),
                date="2026-06-09",
                claims=6,
                first_claim=(
                    "The study investigates the consistency of embedding knowledge between dense retrievers and "
                    "their untrained backbone coun"
                ),
                confidences=[0.11, 0.14, 0.03, 0.03, 0.02, 0.03],
                references=("2402.11690", "2204.10641", "2505.07166"),
                score=3.8,
                subject="Pre-training vs. Fine-tuning: A Reproducibility Study on Dense Retrieval Knowledge Acquisition",
            ),
        ),
    ],
)
def test_synthesis_reports(seed_file, prefix, expected):
    result = parse_file(seed_file(prefix))
    assert result.format == "synthesis_report" and result.papers == [] and result.skipped == []
    (report,) = result.reports
    assert report.title == expected["title"]
    assert report.research_question == expected["question"]
    assert report.report_date == expected["date"]
    assert len(report.claims) == expected["claims"] == report.claims_stated
    assert report.claims[0].text == expected["first_claim"]
    assert [c.confidence for c in report.claims] == expected["confidences"]
    assert not any(c.verified for c in report.claims)
    assert report.reference_arxiv_ids == expected["references"]
    assert (report.papers_stated, report.verified_stated) == (16, 0)
    assert report.review_score == expected["score"]
    assert report.subject_title == expected["subject"]


def test_report_claim_with_tick_and_bad_mark():
    text = (
        "# A report\n\nThis report synthesises findings from 2 papers. Research question: Does it work?.\n\n"
        "Claim\tVerified\tConfidence\nIt works.\t✓\t0.9\nIt may work.\t?\t0.5\n"
    )
    (report,) = parse_text(text).reports
    assert [(c.text, c.verified, c.confidence) for c in report.claims] == [("It works.", True, 0.9)]
    assert parse_text(text).skipped == ["claim row 2: verified mark '?' is neither ✓ nor ×"]


def test_report_without_research_question_is_rejected():
    with pytest.raises(ParseError, match="no 'Research question: ...\\?' sentence"):
        parse_text("Title\n\nThis report synthesises findings from 3 papers.\n")


# --- arXiv JSON / JSONL / Atom --------------------------------------------------------------------


def test_arxiv_jsonl_804_records(shared_data):
    result = parse_file(shared_data / "arxiv" / "arxiv_papers.jsonl")
    assert result.format == "arxiv_jsonl"
    assert len(result.papers) == 804 and result.skipped == []
    comic = by_title(result, "COMIC: Agentic Sketch Comedy Generation")
    assert (comic.arxiv_id, comic.arxiv_version) == ("2603.11048", 1)
    assert comic.authors == ("Susung Hong", "Brian Curless", "Ira Kemelmacher-Shlizerman", "Steve Seitz")
    assert comic.categories == ("cs.CV", "cs.AI", "cs.CL", "cs.MA", "cs.NE")
    assert comic.published == "2026"
    assert comic.abstract.startswith("We propose a fully automated AI system that produces short comedic videos")
    assert comic.url == "https://arxiv.org/abs/2603.11048"
    assert len({p.arxiv_id for p in result.papers}) == 804


def test_arxiv_atom_sample(shared_data):
    result = parse_file(shared_data / "arxiv" / "atom_sample.xml")
    assert result.format == "arxiv_atom"
    (paper,) = result.papers
    assert paper.title == "Supervised Multi-Modal Fission Learning"
    assert (paper.arxiv_id, paper.arxiv_version) == ("2409.20559", 1)
    assert paper.authors == ("Lingchao Mao", "Qi wang", "Yi Su", "Fleming Lure", "Jing Li")
    assert paper.published == "2024-09-30"
    assert paper.categories == ("cs.LG", "cs.CV")
    assert "\n" not in paper.abstract and "  " not in paper.abstract
    assert paper.abstract.startswith("Learning from multimodal datasets can leverage complementary information and improve")
    assert paper.abstract.endswith("compared to existing methods.")


ATOM_ENTRY = """<entry><id>http://arxiv.org/abs/{id}</id><published>1999-01-04T00:00:00Z</published>
<title>An  old
  paper</title><summary>Wrapped
 abstract.</summary><author><name>A. Author</name></author></entry>"""


def atom_feed(*entries: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">' + "".join(entries) + "</feed>"


def test_atom_old_style_id_and_error_entry():
    error = "<entry><id>http://arxiv.org/api/errors#bad</id><title>Error</title><summary>incorrect id format</summary></entry>"
    result = parse_text(atom_feed(ATOM_ENTRY.format(id="hep-th/9901001v2"), error), name="feed.txt")
    (paper,) = result.papers
    assert (paper.arxiv_id, paper.arxiv_version, paper.title) == ("hep-th/9901001", 2, "An old paper")
    assert (paper.abstract, paper.published, paper.authors) == ("Wrapped abstract.", "1999-01-04", ("A. Author",))
    assert result.skipped == ["entry 2: the arXiv API answered with an error: incorrect id format"]


def test_atom_all_entries_bad_or_none():
    with pytest.raises(ParseError, match="entry 1: <id> 'nonsense' is not an arXiv id"):
        parse_text(atom_feed(ATOM_ENTRY.replace("http://arxiv.org/abs/{id}", "nonsense")))
    with pytest.raises(ParseError, match="no <entry>"):
        parse_text(atom_feed())


def test_xml_with_doctype_or_entity_is_refused():
    bomb = '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>\n<feed>&lol2;</feed>'
    with pytest.raises(ParseError, match="DOCTYPE or ENTITY declaration is refused"):
        parse_text(bomb)
    xxe = '<!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]><feed xmlns="http://www.w3.org/2005/Atom">&x;</feed>'
    with pytest.raises(ParseError, match="refused"):
        parse_text(xxe)


def test_xml_that_is_not_an_atom_feed():
    with pytest.raises(ParseError, match="not an Atom <feed>"):
        parse_text("<rss><channel/></rss>")
    with pytest.raises(ParseError, match="not well-formed XML"):
        parse_text('<feed xmlns="http://www.w3.org/2005/Atom"><entry>')


def test_arxiv_json_old_style_id_array_and_txt_name():
    records = [{"id": "hep-th/9901001v2", "title": "Old", "abstract": " An\n abstract ", "year": 1999}]
    result = parse_text(json.dumps(records), name="papers.txt")  # a .txt holding JSON is read as JSON
    assert result.format == "arxiv_json"
    (paper,) = result.papers
    assert (paper.arxiv_id, paper.arxiv_version, paper.abstract, paper.published) == ("hep-th/9901001", 2, "An abstract", "1999")


# Two lines in the layout of arXiv's bulk metadata snapshot (Kaggle's arxiv-metadata-oai-snapshot.json),
# field for field as that file writes them; the first is arXiv paper 0704.0001.
SNAPSHOT_LINES = [
    {"id": "0704.0001", "submitter": "Pavel Nadolsky", "authors": "C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan",
     "title": "Calculation of prompt diphoton production cross sections at Tevatron and\n  LHC energies",
     "comments": "37 pages, 15 figures; published version", "journal-ref": "Phys.Rev.D76:013009,2007",
     "doi": "10.1103/PhysRevD.76.013009", "report-no": "ANL-HEP-PR-07-12", "categories": "hep-ph", "license": None,
     "abstract": "  A fully differential calculation in perturbative quantum chromodynamics is\npresented for the production of massive photon pairs at hadron colliders.\n",
     "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}, {"version": "v2", "created": "Tue, 24 Jul 2007 20:10:27 GMT"}],
     "update_date": "2008-11-13",
     "authors_parsed": [["Balázs", "C.", ""], ["Berger", "E. L.", ""], ["Nadolsky", "P. M.", ""], ["Yuan", "C. -P.", ""]]},
    {"id": "math/0406594", "submitter": "A. Author", "authors": "A. Author and B. Writer", "title": "An old-style id",
     "categories": "math.CO cs.DM", "abstract": "Text.", "versions": [{"version": "v1", "created": "Wed, 30 Jun 2004 12:00:00 GMT"}],
     "update_date": "2004-07-01"},
]


def test_arxiv_metadata_snapshot_lines_are_read():
    bad_versions = {**SNAPSHOT_LINES[1], "id": "math/0406595", "versions": [{"version": "first", "created": "yesterday"}]}
    bad_date = {**SNAPSHOT_LINES[1], "id": "math/0406596", "versions": [{"version": "v1", "created": "yesterday"}]}
    text = "\n".join(json.dumps(line) for line in [*SNAPSHOT_LINES, bad_versions, bad_date]) + "\n"
    result = parse_text(text, name="arxiv-metadata-oai-snapshot.json")
    assert result.format == "arxiv_jsonl"
    first, second = result.papers
    assert first.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert first.authors == ("C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan")  # authors_parsed, accents decoded
    assert (first.arxiv_id, first.arxiv_version, first.published, first.categories) == ("0704.0001", 2, "2007-04-02", ("hep-ph",))
    assert first.abstract.startswith("A fully differential calculation in perturbative quantum chromodynamics is presented")
    assert (second.arxiv_id, second.arxiv_version, second.authors, second.categories) == ("math/0406594", 1, ("A. Author", "B. Writer"), ("math.CO", "cs.DM"))
    assert result.skipped == [
        "line 3: field 'versions' has a version that is not 'v<number>': ['first']",
        "line 4: field 'versions': 'created' of v1 is 'yesterday', not a date like 'Mon, 2 Apr 2007 19:18:42 GMT'",
    ]


def test_jsonl_partial_records_are_skipped_with_reasons():
    lines = [
        {"id": "2603.11048v1", "title": "Good", "authors": ["A"], "abstract": "Text."},
        {"id": "2603.11049v1", "abstract": "No title."},
        {"id": "2603.11050v1", "title": 7},
        {"id": "2603.11051v1", "title": "Bad authors", "authors": 7},
        {"id": "not-an-id", "title": "Bad id"},
        {"id": "2603.11052v1", "title": "Bad categories", "categories": ["cs.IR", 3]},
        ["not", "an", "object"],
    ]
    text = "\n".join(json.dumps(line) for line in lines[:3]) + "\n{broken json\n" + "\n".join(json.dumps(line) for line in lines[3:])
    result = parse_text(text)
    assert result.format == "arxiv_jsonl"
    assert [p.title for p in result.papers] == ["Good"]
    assert result.skipped == [
        "line 4: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        "line 2: field 'title' is missing",
        "line 3: field 'title' must be a string, got int",
        "line 5: field 'authors' must be a list of strings, got int",
        "line 6: field 'id' 'not-an-id' is not an arXiv id",
        "line 7: field 'categories' must be a list of strings, got a list holding int",
        "line 8: expected a JSON object, got list",
    ]


def test_json_with_no_usable_record_is_rejected():
    with pytest.raises(ParseError, match="no usable record in the file: record 1: field 'title' is missing; record 2: field 'title' must be a string, got null"):
        parse_text(json.dumps([{"id": "2603.11048"}, {"title": None}]))


def test_broken_json_array_and_unknown_json_are_rejected():
    with pytest.raises(ParseError, match="not valid JSON"):
        parse_text('[{"title": "A"}, {"title": ')
    with pytest.raises(ParseError, match="not a known format"):
        parse_text('{"images": [], "annotations": []}')


# --- SciFact / BEIR corpora ----------------------------------------------------------------------


def test_scifact_corpus(shared_data):
    path = shared_data / "scifact" / "corpus.jsonl"
    result = parse_file(path)
    assert result.format == "scifact_corpus"
    assert len(result.papers) == 5183 and result.skipped == []
    raw = json.loads(path.read_text(encoding="utf-8").split("\n", 1)[0])
    first = result.papers[0]
    assert first.external_id == str(raw["doc_id"]) == "4983"
    assert first.title == raw["title"]
    assert first.abstract == " ".join(raw["abstract"])
    assert first.abstract.startswith("Alterations of the architecture of cerebral white matter")
    assert len({p.external_id for p in result.papers}) == 5183


def test_scifact_bad_record_skipped():
    good = {"doc_id": 1, "title": "T", "abstract": ["One.", "Two."], "structured": False}
    result = parse_text("\n".join(json.dumps(r) for r in [good, {**good, "doc_id": "2"}, {**good, "abstract": "One."}]))
    assert [(p.external_id, p.abstract) for p in result.papers] == [("1", "One. Two.")]
    assert result.skipped == [
        "line 2: field 'doc_id' must be an int, got string",
        "line 3: field 'abstract' must be a list of strings, got string",
    ]


def test_beir_corpus(tmp_path):
    rows = [
        {"_id": "4983", "title": "Microstructural development", "text": "Alterations of the architecture."},
        {"_id": "5836", "title": "Induction of myelodysplasia", "text": "Myelodysplastic syndromes."},
        {"_id": "7912", "title": "", "text": "No title."},
    ]
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = parse_file(path)
    assert result.format == "beir_corpus"
    assert [(p.external_id, p.title, p.abstract) for p in result.papers] == [
        ("4983", "Microstructural development", "Alterations of the architecture."),
        ("5836", "Induction of myelodysplasia", "Myelodysplastic syndromes."),
    ]
    assert result.skipped == ["line 3: field 'title' is empty"]


# --- PDF ---------------------------------------------------------------------------------------------


def test_pdf_with_metadata_title_abstract_and_id():
    result = parse_bytes(make_pdf(PAPER_PDF_PAGES, title="Towards Better Instruction Following (metadata)"), name="p.pdf")
    assert result.format == "pdf"
    (paper,) = result.papers
    assert paper.title == "Towards Better Instruction Following (metadata)"
    assert (paper.arxiv_id, paper.arxiv_version) == ("2505.21439", 2)
    assert paper.abstract == "Modern retrieval models struggle to follow explicit user instructions."
    assert "Retrieval has a long history." in paper.full_text
    assert "nDCG@10 rises by 8.1 points." in paper.full_text  # page two


def test_pdf_title_from_first_line_without_abstract():
    data = make_pdf([["A Paper Without Metadata", "Some body text, no headings."]])
    (paper,) = parse_bytes(data, name="downloaded.bin").papers  # content decides, not the name
    assert paper.title == "A Paper Without Metadata"
    assert paper.abstract is None and paper.arxiv_id is None


def test_pdf_failures():
    good = make_pdf(PAPER_PDF_PAGES)
    with pytest.raises(ParseError, match="truncated"):
        parse_bytes(good[: len(good) // 2], name="p.pdf")
    with pytest.raises(ParseError, match="no extractable text"):
        parse_bytes(make_pdf([[]]), name="blank.pdf")
    with pytest.raises(ParseError, match="PDF cannot be read"):
        parse_bytes(b"%PDF-1.4\n" + b"garbage " * 50 + b"\n%%EOF\n", name="junk.pdf")
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(good)))
    writer.encrypt("secret", algorithm="RC4-128")
    encrypted = io.BytesIO()
    writer.write(encrypted)
    with pytest.raises(ParseError, match="PDF is encrypted"):
        parse_bytes(encrypted.getvalue(), name="locked.pdf")


def test_pdf_name_with_other_content_is_rejected():
    with pytest.raises(ParseError, match="named .pdf but the content is not a PDF \\(first bytes 3c 68 74 6d"):
        parse_bytes(b"<html><body>404 Not Found</body></html>", name="paper.PDF")


# --- file-level failures -------------------------------------------------------------------------


def test_empty_and_whitespace_files(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(ParseError, match="^empty file$"):
        parse_file(tmp_path / "empty.txt")
    with pytest.raises(ParseError, match="only whitespace"):
        parse_bytes(b" \n\t\n", name="blank.txt")


def test_binary_junk_is_rejected():
    with pytest.raises(ParseError, match="binary content that is not a PDF \\(first bytes 00 01 02 03 04 05 06 07\\)"):
        parse_bytes(bytes(range(256)), name="data.txt")
    with pytest.raises(ParseError, match="first bytes 89 50 4e 47 .*a PNG image"):
        parse_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, name="figure.txt")


def test_oversize_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as handle:
        handle.truncate(60_200_000)  # sparse: no 60 MB actually written
    with pytest.raises(ParseError) as caught:
        parse_file(path)
    assert str(caught.value) == "file is 60.2 MB, over the 50 MB limit (raise ingest.max_file_bytes to accept it)"


def test_unreadable_path(tmp_path):
    with pytest.raises(ParseError, match="cannot read the file"):
        parse_file(tmp_path / "missing.txt")


def test_invalid_utf8_names_the_byte():
    data = "Daily Papers\n\nCaf".encode() + b"\xe9 Retrieval\n"
    with pytest.raises(ParseError, match="^not valid UTF-8 at byte 17 \\(0xe9\\); re-save the file as UTF-8$"):
        parse_bytes(data, name="latin1.txt")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_bom_encodings_are_decoded(seed_file, encoding):
    text = seed_file("003").read_text(encoding="utf-8")
    data = text.encode(encoding)
    assert data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    result = parse_bytes(data, name="page.txt")
    assert len(result.papers) == 20
    assert result.papers[0].title.startswith("Optimizing CLIP Models")


def test_windows_line_endings(seed_file):
    data = seed_file("002").read_bytes().replace(b"\n", b"\r\n")
    assert len(parse_bytes(data, name="page.txt").papers) == 38


def test_html_page_is_rejected():
    html = "<!DOCTYPE html>\n<html><head><script>window.location='x'</script></head><body><h1>Papers</h1></body></html>"
    with pytest.raises(ParseError, match="HTML page"):
        parse_text(html, name="papers.html")


def test_unrecognised_text_lists_accepted_formats():
    with pytest.raises(ParseError) as caught:
        parse_text("Just some notes I took.\nNothing structured here.\n", name="notes.txt")
    assert str(caught.value) == (
        "no recognised format: expected a paper-listing page, a paper page, a synthesis report, "
        "arXiv JSON/JSONL/Atom, SciFact/BEIR JSONL or PDF"
    )


def test_listing_with_a_paragraph_where_a_title_belongs_is_rejected():
    with pytest.raises(ParseError, match="listing line 3: expected a paper title, found a 500-character paragraph"):
        parse_text("Daily Papers\n\n" + "x" * 500 + "\n")


# --- property: any input yields a ParseResult or a ParseError, nothing else ----------------------

_PREFIXES = [b"", b"%PDF-1.4\n", b"{", b"[", b'{"doc_id": 1, ', b'{"_id": "1", ', b'{"title": ',
             b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>', b"Daily Papers\n", b"\xef\xbb\xbf",
             b"\xff\xfe", b"arXiv:2505.21439v1\n", b"Claim\tVerified\tConfidence\n"]  # fmt: skip
_SEED_BYTES = [path.read_bytes() for path in SEEDS]


def _assert_parses_or_rejects(data: bytes, name: str) -> None:
    try:
        result = parse_bytes(data, name=name)
    except ParseError as exc:
        assert str(exc)
    else:
        assert isinstance(result, ParseResult) and (result.papers or result.reports)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(_PREFIXES),
    body=st.one_of(st.binary(max_size=600), st.text(max_size=600).map(lambda s: s.encode("utf-8"))),
    suffix=st.sampled_from([b"", b"\n%%EOF\n", b"}\n", b"]", b"</entry></feed>"]),
    name=st.sampled_from(["a.txt", "a.pdf", "a.json", "a"]),
)
def test_any_bytes_parse_or_raise_parse_error(prefix, body, suffix, name):
    _assert_parses_or_rejects(prefix + body + suffix, name)


@settings(max_examples=200, deadline=None)
@given(seed=st.sampled_from(_SEED_BYTES), data=st.data())
def test_cut_or_spliced_seed_files_parse_or_raise_parse_error(seed, data):
    start = data.draw(st.integers(0, len(seed)))
    end = data.draw(st.integers(start, len(seed)))
    junk = data.draw(st.binary(max_size=20))
    _assert_parses_or_rejects(seed[:start] + junk + seed[end:], "seed.txt")


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["id", "title", "abstract", "authors", "categories", "year", "doc_id", "_id", "text"]), inner, max_size=6),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(_JSON_VALUES, max_size=4), jsonl=st.booleans())
def test_any_json_records_parse_or_raise_parse_error(values, jsonl):
    text = "\n".join(json.dumps(v) for v in values) if jsonl else json.dumps(values)
    _assert_parses_or_rejects(text.encode("utf-8"), "records.json")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corrupted_pdfs_parse_or_raise_parse_error(data):
    pdf = bytearray(make_pdf(PAPER_PDF_PAGES, title="T"))
    for _ in range(data.draw(st.integers(1, 5))):
        pdf[data.draw(st.integers(len(b"%PDF-"), len(pdf) - 1))] = data.draw(st.integers(0, 255))
    _assert_parses_or_rejects(bytes(pdf), "paper.pdf")
