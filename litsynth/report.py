"""The grounded report of a research question, in Markdown and HTML, from the warehouse alone.

It opens with the answer, built extractively from rows (no generative model): which of the
question's concepts the selected papers cover and which they do not (``question_coverage``),
the claims that bear most on the question with verdicts, reasons and relations, and the
conflicts between papers (``claim_relations``). Then every section of the machine-written
reports litsynth replaces (abstract, introduction, methodology, results, limitations,
extracted claims, references), their opaque review score replaced by measured quantities.
Every number is a query over the warehouse tables; no text is shortened (evidence sentences
whole, the passage behind a disclosure); text from the data is escaped so that nothing in a
title or a question becomes a link, an image or HTML, and the HTML page loads nothing remote.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

LABEL_WORDS = {"supported": "supported", "contradicted": "contradicted", "not_enough_evidence": "not enough evidence"}


@dataclass
class ReportData:
    question: dict
    corpus: dict
    papers: pl.DataFrame
    claims: pl.DataFrame
    coverage: pl.DataFrame
    relations: pl.DataFrame
    leaderboard: pl.DataFrame
    embedding_status: pl.DataFrame
    prior_audit: pl.DataFrame
    benchmarks: pl.DataFrame


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def load_report_data(con: duckdb.DuckDBPyConnection, question_id: str) -> ReportData:
    one = lambda sql: con.execute(sql, [question_id]).pl()  # noqa: E731
    question = con.execute("SELECT question_id, question, keywords, benchmarks FROM questions WHERE question_id = ?", [question_id]).pl().to_dicts()
    if not question:
        raise KeyError(f"question {question_id!r} is not in the warehouse; materialise `questions` first")
    corpus = con.execute(
        """SELECT (SELECT count(*) FROM documents) AS files,
                  (SELECT count(*) FROM documents WHERE status = 'rejected') AS rejected,
                  (SELECT count(*) FROM documents WHERE status = 'duplicate') AS duplicates,
                  (SELECT count(*) FROM papers) AS papers"""
    ).pl().to_dicts()[0]
    return ReportData(
        question=question[0],
        corpus=corpus,
        papers=one(
            """SELECT qp.rank, p.title, p.arxiv_id, p.published, p.text_level, qp.bm25_score, qp.dense_similarity,
                      qp.fused_score, qp.selected, qp.selection_reason, qp.dense_model
               FROM question_papers qp JOIN papers p USING (paper_id) WHERE qp.question_id = ? ORDER BY qp.rank"""
        ),
        claims=one(
            """SELECT c.claim_id, c.claim_type, c.text, c.relevance, p.title AS source_title, p.arxiv_id AS source_arxiv,
                      v.label, v.confidence, v.verifier, v.evidence_text, v.evidence_score, v.evidence_candidates,
                      v.grounding, v.claim_scope, v.reason, k.text AS evidence_passage,
                      e.title AS evidence_title, e.arxiv_id AS evidence_arxiv,
                      (SELECT string_agg(q.raw, '; ' ORDER BY q.position) FROM claim_quantities q
                        WHERE q.question_id = c.question_id AND q.claim_id = c.claim_id) AS quantities,
                      (SELECT string_agg(DISTINCT x.name, ', ') FROM claim_entities x
                        WHERE x.question_id = c.question_id AND x.claim_id = c.claim_id AND x.is_subject) AS about
               FROM claims c JOIN papers p USING (paper_id)
               LEFT JOIN verifications v ON v.question_id = c.question_id AND v.claim_id = c.claim_id
               LEFT JOIN chunks k ON k.question_id = v.question_id AND k.chunk_id = v.evidence_chunk_id
               LEFT JOIN papers e ON e.paper_id = v.evidence_paper_id
               WHERE c.question_id = ? ORDER BY v.label NULLS LAST, c.relevance DESC"""
        ),
        coverage=one("SELECT * FROM question_coverage WHERE question_id = ? ORDER BY position"),
        relations=one(
            """SELECT r.relation, r.basis, r.shared_entity, r.benchmark, r.metric, r.claim_quantity, r.other_quantity, r.score,
                      r.claim_id, r.other_claim_id, a.text AS claim, pa.title AS claim_title, b.text AS other_claim, pb.title AS other_title
               FROM claim_relations r
               JOIN claims a ON a.question_id = r.question_id AND a.claim_id = r.claim_id JOIN papers pa ON pa.paper_id = a.paper_id
               JOIN claims b ON b.question_id = r.question_id AND b.claim_id = r.other_claim_id JOIN papers pb ON pb.paper_id = b.paper_id
               WHERE r.question_id = ? ORDER BY r.relation = 'conflicts' DESC, r.basis, r.score DESC, r.relation_id"""
        ),
        leaderboard=one("SELECT * FROM model_leaderboard WHERE question_id = ? ORDER BY rank, model_id"),
        embedding_status=one("SELECT model_id, status, reason FROM embedding_status WHERE question_id = ? ORDER BY model_id"),
        prior_audit=one("SELECT * FROM prior_report_audit WHERE question_id = ? ORDER BY report_title, position"),
        benchmarks=one(
            """SELECT b.* FROM benchmark_leaderboard b, questions q
               WHERE q.question_id = ? AND list_contains(q.benchmarks, split_part(b.benchmark, '/', 1))
               ORDER BY b.benchmark, b.metric, b.rank, b.model_id"""
        ),
    )


_MARKUP = re.compile(r"([\[\]<`|]|\\(?=[!-/:-@\[-`{-~]))")


class _Markdown(str):
    """Markdown built here (a link), placed as it is."""


def _text(value: object) -> str:
    """Text from the warehouse as Markdown that shows it literally: whole (never cut), on one
    line, with the characters that would make a link, an image, HTML or a table cell escaped."""
    if isinstance(value, _Markdown):
        return value
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return _MARKUP.sub(r"\\\1", " ".join(str(value).split()))


def _table(headers: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_text(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _arxiv(arxiv_id: str | None) -> str:
    return _Markdown(f"[arXiv:{_text(arxiv_id)}](https://arxiv.org/abs/{_text(arxiv_id)})" if arxiv_id else "no arXiv id")


def _quoted(items: list[str]) -> str:
    quoted = [f"“{_text(i)}”" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def quality_indicators(data: ReportData) -> dict[str, object]:
    """The measured quantities that replace an opaque review score."""
    claims = data.claims
    verified = claims.filter(pl.col("label").is_not_null())
    with_evidence = verified.filter(pl.col("evidence_text").is_not_null())
    selected = data.papers.filter("selected")
    measured = data.leaderboard.filter(pl.col("status") == "measured")
    best = measured.sort("ndcg_10", descending=True).head(1).to_dicts()
    share = lambda part, whole: (part / whole) if whole else None  # noqa: E731
    return {
        "claims extracted": claims.height,
        "claims verified": verified.height,
        "claims with an independent evidence passage": with_evidence.height,
        "claims supported": verified.filter(pl.col("label") == "supported").height,
        "claims contradicted": verified.filter(pl.col("label") == "contradicted").height,
        "claims with not enough evidence": verified.filter(pl.col("label") == "not_enough_evidence").height,
        "claims about a specific system (own or named)": verified.filter(pl.col("claim_scope").is_in(["own", "named"])).height,
        "conflicts between papers": data.relations.filter(pl.col("relation") == "conflicts").height,
        "mean verdict confidence": verified["confidence"].mean() if verified.height else None,
        "claims faithful to their source": share(verified.filter(pl.col("grounding") == "faithful").height, verified.height),
        "selected papers with full text": share(selected.filter(pl.col("text_level") == "full_text").height, selected.height),
        "best model (nDCG@10, inverse-cloze protocol)": f"{best[0]['model_id']} ({best[0]['ndcg_10']:.3f})" if best else None,
    }


ANSWER_CLAIMS = 5  # claims shown in the answer, most relevant to the question first
CONCEPT_ORDER = {"question": 0, "keyword": 1, "entity": 2}


def _answer(data: ReportData) -> list[str]:
    """The answer section: extractive, every sentence a count or a quotation of warehouse rows."""
    coverage = data.coverage
    covered = coverage.filter(pl.col("papers_covering") > 0)
    # the question's own phrases first: they are what it asks about
    missing = coverage.filter(pl.col("papers_covering") == 0).sort(pl.col("source").replace_strict(CONCEPT_ORDER), "position")
    selected = data.papers.filter("selected").height
    claims = data.claims
    decisive = claims.filter(pl.col("label").is_in(["supported", "contradicted"]))
    conflicts = data.relations.filter(pl.col("relation") != "corroborates")
    lines = []
    if not selected:
        lines.append("The corpus cannot answer this question: no paper was selected for it.")
    elif missing.height:
        lines.append(
            f"The corpus answers this question only in part: no selected paper covers {_quoted(missing['concept'].to_list())} "
            f"({missing.height} of the question's {coverage.height} concepts)."
        )
    else:
        lines.append(f"Every one of the question's {coverage.height} concepts is covered by at least one of the {selected} selected papers.")
    if covered.height:
        lines.append(
            "Covered: " + "; ".join(f"“{_text(r['concept'])}” by {r['papers_covering']} of {selected} papers and {_count(r['claims_covering'], 'claim')}" for r in covered.iter_rows(named=True)) + "."
        )
    lines.append(
        f"Verdicts on the {claims.height} claims: {decisive.filter(pl.col('label') == 'supported').height} supported and "
        f"{decisive.filter(pl.col('label') == 'contradicted').height} contradicted by evidence from another paper, "
        f"{claims.filter(pl.col('label') == 'not_enough_evidence').height} with not enough evidence; "
        f"{claims.filter(pl.col('claim_scope').is_in(['own', 'named'])).height} claims are about a specific system and count only evidence on that system."
    )
    lines.append(
        f"The selected papers give {conflicts.filter(pl.col('relation') == 'conflicts').height} conflicting and "
        f"{conflicts.filter(pl.col('relation') == 'same_benchmark_different_results').height} differing results on shared benchmarks (below)."
    )
    sections = ["## Answer: what the corpus says", " ".join(lines), "### The question's concepts and what covers them"]
    sections.append(
        _table(
            ["concept", "from", "answer", "selected papers covering it", "claims", "supported", "contradicted"],
            [[r["concept"], r["source"], r["answer"], r["covering_papers"], r["claims_covering"], r["claims_supported"], r["claims_contradicted"]] for r in coverage.iter_rows(named=True)],
        )
        if coverage.height
        else "The question's concepts have not been computed (materialise `question_concepts`)."
    )
    top = claims.sort("relevance", descending=True).head(ANSWER_CLAIMS)
    sections += ["### The claims that bear most on the question", _claims_markdown(top, data.relations)]
    sections += ["### Conflicts and differing results between papers", _relations_markdown(conflicts)]
    return sections


def _relations_markdown(relations: pl.DataFrame) -> str:
    if not relations.height:
        return "No two selected papers state different figures for the same benchmark and metric, and the verifier found no contradiction."
    lines = []
    for r in relations.iter_rows(named=True):
        what = RELATION_WORDS[r["relation"]]
        if r["basis"] == "figures":
            head = f"**{what}** on {_text(r['benchmark'])}, {_text(r['metric'])}: {_text(r['claim_quantity'])} vs {_text(r['other_quantity'])} (relative difference {r['score']:.3f})"
        else:
            head = f"**{what}** (the verifier's evidence, confidence {r['score']:.2f})"
        lines.append(f"- {head}\n  - {_text(r['claim_title'])}: “{_text(r['claim'])}”\n  - {_text(r['other_title'])}: “{_text(r['other_claim'])}”")
    return "\n".join(lines)


RELATION_WORDS = {"corroborates": "corroborates", "conflicts": "conflict", "same_benchmark_different_results": "same benchmark, different results"}


def render_markdown(data: ReportData, *, plot_file: str | None = None, generated: dt.date | None = None) -> str:
    from litsynth.evaluation.question_retrieval import PROTOCOL

    q = data.question
    selected = data.papers.filter("selected")
    indicators = quality_indicators(data)
    claims = data.claims
    verified = indicators["claims verified"]
    no_evidence = claims.filter(pl.col("label").is_not_null() & pl.col("evidence_text").is_null()).height
    verifier = claims["verifier"].drop_nulls().unique().sort().to_list()
    sections = [
        f"# {_text(q['question'])}",
        f"*litsynth report for `{_text(q['question_id'])}` · {(generated or dt.date.today()).isoformat()} · every figure below is a query over the warehouse*",
        *_answer(data),
        "## Abstract",
        (
            f"This synthesis addresses: {_text(q['question'])} From {data.corpus['papers']} papers in the corpus, "
            f"{selected.height} were selected by hybrid relevance; {claims.height} complete claims were extracted from them, "
            f"{verified} were checked against evidence retrieved from other papers "
            f"({indicators['claims supported']} supported, {indicators['claims contradicted']} contradicted, "
            f"{indicators['claims with not enough evidence']} with not enough evidence). "
            f"{data.leaderboard.filter(pl.col('status') == 'measured').height} retrieval models were measured on the question's passages."
        ),
        "## 1 Introduction",
        f"Research question: {_text(q['question'])}" + (f"\n\nSearch keywords: {', '.join(_text(k) for k in q['keywords'])}." if q["keywords"] else ""),
        "## 2 Methodology",
        "\n".join(
            [
                f"- **Corpus**: {data.corpus['files']} input files ({data.corpus['rejected']} rejected, {data.corpus['duplicates']} duplicates, each with its reason in `documents`) gave {data.corpus['papers']} deduplicated papers.",
                f"- **Selection**: every paper ranked by BM25 (DuckDB fts) fused by reciprocal rank with dense similarity ({_text(selected['dense_model'][0]) if selected.height else 'n/a'}); selected when within the top ranks and above the similarity floor ({selected.height} of {data.papers.height}).",
                f"- **Claims**: sentence-aware chunks within every text model's token limit; complete sentences stating results, comparisons, methods, definitions, datasets or limitations, with exact source offsets ({claims.height} claims).",
                f"- **Verification**: evidence retrieved (hybrid) from passages of *other* papers only; verifier: {', '.join(_text(v) for v in verifier) or 'not run'}. A claim about its own paper's contribution (\"we\", \"our method\", resolved to the paper's system name) or about a named system counts only evidence that is about that system; other evidence leaves it at not enough evidence, with the reason. A separate grounding check against each claim's own source.",
                f"- **Relations**: figures of different papers on the same benchmark and metric are compared (same system: corroborates or conflicts; other systems: same benchmark, different results); the verifier's decisive evidence relates a claim to the claims in its evidence passage.",
                f"- **Retrieval evaluation**: {PROTOCOL}",
            ]
        ),
        "## 3 Results",
        "### 3.1 Quality indicators (in place of a review score)",
        _table(["indicator", "value"], [[k, v] for k, v in indicators.items()]),
        "### 3.2 Selected papers",
        _table(
            ["rank", "title", "source", "date", "text", "BM25", "similarity"],
            [[r["rank"], r["title"], _arxiv(r["arxiv_id"]), r["published"], r["text_level"], r["bm25_score"], r["dense_similarity"]] for r in selected.iter_rows(named=True)],
        ) if selected.height else "No paper was selected.",
        "### 3.3 Model leaderboard on the question's passages",
        f"Protocol: {PROTOCOL}",
        _table(
            ["rank", "model", "nDCG@10", "R@1", "R@5", "R@10", "MRR@10", "queries", "note"],
            [[r["rank"] if r["status"] == "measured" else "—", r["model_id"], r["ndcg_10"], r["recall_1"], r["recall_5"], r["recall_10"], r["mrr_10"], r["queries"], r["reason"] or ""] for r in data.leaderboard.iter_rows(named=True)],
        ),
    ]
    if plot_file:
        sections.append(f"![Recall@k and nDCG@10 per model]({plot_file})")
    if q["benchmarks"]:
        sections.append(f"### 3.4 The same models on the benchmarks this question names ({', '.join(_text(b) for b in q['benchmarks'])})")
        sections.append(
            _table(
                ["benchmark", "metric", "model", "measured", "published", "note"],
                [[r["benchmark"], r["metric"], r["model_id"], r["value"], r["published"], r["reason"] or ""] for r in data.benchmarks.iter_rows(named=True)],
            )
            if data.benchmarks.height
            else "Not measured in this warehouse yet: run `litsynth bench` (every catalog model on the public benchmarks; long, so it is not part of `litsynth run`)."
        )
    sections += ["## 4 Extracted claims", _claims_markdown(claims, data.relations)]
    sections += ["## 5 Limitations", _limitations(data, no_evidence)]
    if data.prior_audit.height:
        sections += [
            "## 6 Audit of the prior machine-written report",
            _table(
                ["#", "as printed", "complete?", "found in sources", "source / reason"],
                [[r["position"], r["printed_text"], "yes" if r["printed_complete"] else "cut off", r["completed_text"] if r["matched"] else "no", r["source_title"] if r["matched"] else r["reason"]] for r in data.prior_audit.iter_rows(named=True)],
            ),
        ]
    sections += ["## References", "\n".join(f"- {_text(r['title'])} — {_arxiv(r['arxiv_id'])}" + (f" ({r['published']})" if r["published"] else "") for r in selected.iter_rows(named=True)) or "No paper was selected."]
    return "\n\n".join(sections) + "\n"


DISCLOSURE = ("<details><summary>the whole passage</summary>", "</details>")


def _claims_markdown(claims: pl.DataFrame, relations: pl.DataFrame) -> str:
    if not claims.height:
        return "No claim was extracted: the selected papers state no complete finding, method or limitation."
    related: dict[str, list[str]] = {}
    for r in relations.iter_rows(named=True):
        related.setdefault(r["claim_id"], []).append(f"{RELATION_WORDS[r['relation']]} with {_text(r['other_title'])}")
        related.setdefault(r["other_claim_id"], []).append(f"{RELATION_WORDS[r['relation']]} with {_text(r['claim_title'])}")
    blocks = []
    for i, c in enumerate(claims.iter_rows(named=True), start=1):
        verdict = f"**{LABEL_WORDS.get(c['label'], 'not verified')}**" + (f" (confidence {c['confidence']:.2f}, {_text(c['verifier'])})" if c["label"] else "")
        lines = [f"{i}. {_text(c['text'])}", f"   - type: {c['claim_type']} · source: {_text(c['source_title'])} ({_arxiv(c['source_arxiv'])}) · relevance {c['relevance']:.2f}"]
        if c["about"]:
            lines.append(f"   - about: {_text(c['about'])} ({c['claim_scope']})")
        if c["quantities"]:
            lines.append(f"   - quantities: {_text(c['quantities'])}")
        lines.append(f"   - verdict: {verdict}" + (f" · grounding: {c['grounding']}" if c["grounding"] else ""))
        if c["reason"]:
            lines.append(f"   - why: {_text(c['reason'])}")
        if c["evidence_text"]:
            passage = c["evidence_passage"] or c["evidence_text"]
            source = f"{_text(c['evidence_title'])}, {_arxiv(c['evidence_arxiv'])}"
            if " ".join(passage.split()) != " ".join(c["evidence_text"].split()):
                lines.append(f"   - evidence ({source}): “{_text(c['evidence_text'])}”")
            else:  # the verifier named no evidence sentence: the closest passage, not evidence
                lines.append(f"   - closest passage of another paper ({source}), not evidence:")
            lines += ["", f"     {DISCLOSURE[0]}", "", f"     {_text(passage)}", "", f"     {DISCLOSURE[1]}", ""]
        elif c["label"]:
            lines.append(f"   - evidence: none of the {c['evidence_candidates']} passages of other papers was retrieved for this claim")
        if c["claim_id"] in related:
            lines.append(f"   - relations: {'; '.join(related[c['claim_id']])}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _limitations(data: ReportData, no_evidence: int) -> str:
    selected = data.papers.filter("selected")
    abstract_only = selected.filter(pl.col("text_level") != "full_text").height
    unverified = data.claims.filter(pl.col("label").is_null()).height
    skipped = data.embedding_status.filter(pl.col("status") == "skipped")
    missing = data.coverage.filter(pl.col("papers_covering") == 0)
    items = [
        f"- Not covered by the corpus: {_quoted(missing['concept'].to_list())}." if missing.height else None,
        f"- {abstract_only} of {selected.height} selected papers are known only by title and abstract; claims from their full text are missing." if abstract_only else None,
        f"- {no_evidence} claims had no passage from another paper to check them against." if no_evidence else None,
        f"- {unverified} claims are not verified yet (the verifications asset has not run for them)." if unverified else None,
        f"- {data.claims.filter(pl.col('label') == 'not_enough_evidence').height} claims could be neither supported nor contradicted by the corpus.",
        *[f"- Model {_text(r['model_id'])} was not measured: {_text(r['reason'])}" for r in skipped.iter_rows(named=True)],
        f"- {data.corpus['rejected']} input files were rejected and are not part of the corpus (see `documents`)." if data.corpus["rejected"] else None,
        "- Claims, entities and concepts are extracted by transparent rules, not by a language model; paraphrased or multi-sentence findings, and systems without a name-shaped name, can be missed.",
    ]
    return "\n".join(i for i in items if i)


def render_leaderboard_plot(leaderboard: pl.DataFrame, path: Path) -> Path | None:
    """A grouped bar chart of R@1/5/10 and nDCG@10 per measured model (PNG)."""
    measured = leaderboard.filter(pl.col("status") == "measured")
    if not measured.height:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [("recall_1", "R@1"), ("recall_5", "R@5"), ("recall_10", "R@10"), ("ndcg_10", "nDCG@10")]
    models = measured["model_id"].to_list()
    figure, axis = plt.subplots(figsize=(7, 4), dpi=110)
    width = 0.8 / len(metrics)
    for i, (column, label) in enumerate(metrics):
        axis.bar([m + i * width for m in range(len(models))], measured[column].to_list(), width, label=label)
    axis.set_xticks([m + width * (len(metrics) - 1) / 2 for m in range(len(models))], models)
    axis.set_ylim(0, 1.05)
    axis.set_ylabel("score")
    axis.set_title("Finding each claim's evidence among the question's chunks")
    axis.legend(ncol=4, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


# Nothing is fetched when a report is opened: no remote image, script, style or font; the plot is inline.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
HTML_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}}
table{{border-collapse:collapse;font-size:.9rem}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}}
img{{max-width:100%}}details{{margin:.25rem 0 .5rem}}summary{{cursor:pointer;color:#555}}</style></head><body>
{body}
</body></html>
"""


def render_html(markdown: str, title: str, images: dict[str, bytes] | None = None) -> str:
    """The report as one self-contained HTML page: raw HTML in the Markdown is shown as text
    except the passage disclosures this module writes, and an image is shown only when it is one
    of ``images`` (file name -> PNG bytes, inlined), else as its Markdown text."""
    import base64
    import html

    import mistune

    inline = {name: base64.b64encode(data).decode("ascii") for name, data in (images or {}).items()}

    class Renderer(mistune.HTMLRenderer):
        def block_html(self, raw: str) -> str:
            return raw.strip() + "\n" if raw.strip() in DISCLOSURE else super().block_html(raw)

        def image(self, text: str, url: str, title: str | None = None) -> str:
            if url in inline:
                return f'<img src="data:image/png;base64,{inline[url]}" alt="{html.escape(text)}" />'
            return html.escape(f"![{text}]({url})")

    body = mistune.create_markdown(renderer=Renderer(escape=True), plugins=["table"])(markdown)
    return HTML_PAGE.format(csp=CSP, title=html.escape(title), body=body)
