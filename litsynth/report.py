"""The grounded report of a research question, in Markdown and HTML, from the warehouse alone.

It keeps every section of the machine-written reports litsynth replaces (abstract,
introduction, methodology, results, limitations, extracted claims, references) and replaces
their opaque review score with the measured quantities behind a judgement: how many claims
have independent evidence, how many are supported, how faithful the extraction is, how well
each model retrieves the evidence. Every number is a query over the warehouse tables.
"""

from __future__ import annotations

import datetime as dt
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
    leaderboard: pl.DataFrame
    embedding_status: pl.DataFrame
    prior_audit: pl.DataFrame
    benchmarks: pl.DataFrame


def load_report_data(con: duckdb.DuckDBPyConnection, question_id: str) -> ReportData:
    one = lambda sql: con.execute(sql, [question_id]).pl()  # noqa: E731
    question = con.execute("SELECT question_id, question, keywords FROM questions WHERE question_id = ?", [question_id]).pl().to_dicts()
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
                      v.grounding, e.title AS evidence_title, e.arxiv_id AS evidence_arxiv,
                      (SELECT string_agg(q.raw, '; ' ORDER BY q.position) FROM claim_quantities q
                        WHERE q.question_id = c.question_id AND q.claim_id = c.claim_id) AS quantities
               FROM claims c JOIN papers p USING (paper_id)
               LEFT JOIN verifications v ON v.question_id = c.question_id AND v.claim_id = c.claim_id
               LEFT JOIN papers e ON e.paper_id = v.evidence_paper_id
               WHERE c.question_id = ? ORDER BY v.label NULLS LAST, c.relevance DESC"""
        ),
        leaderboard=one("SELECT * FROM model_leaderboard WHERE question_id = ? ORDER BY rank, model_id"),
        embedding_status=one("SELECT model_id, status, reason FROM embedding_status WHERE question_id = ? ORDER BY model_id"),
        prior_audit=one("SELECT * FROM prior_report_audit WHERE question_id = ? ORDER BY report_title, position"),
        benchmarks=con.execute(
            "SELECT * FROM benchmark_leaderboard WHERE metric IN ('ndcg@10', 'text_to_image/recall@1', 'image_to_text/recall@1') ORDER BY benchmark, metric, rank"
        ).pl(),
    )


def _cell(value: object, width: int | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def _table(headers: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _arxiv(arxiv_id: str | None) -> str:
    return f"[arXiv:{arxiv_id}](https://arxiv.org/abs/{arxiv_id})" if arxiv_id else "no arXiv id"


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
        "mean verdict confidence": verified["confidence"].mean() if verified.height else None,
        "claims faithful to their source": share(verified.filter(pl.col("grounding") == "faithful").height, verified.height),
        "selected papers with full text": share(selected.filter(pl.col("text_level") == "full_text").height, selected.height),
        "best model (nDCG@10 finding evidence)": f"{best[0]['model_id']} ({best[0]['ndcg_10']:.3f})" if best else None,
    }


def render_markdown(data: ReportData, *, plot_file: str | None = None, generated: dt.date | None = None) -> str:
    q = data.question
    selected = data.papers.filter("selected")
    indicators = quality_indicators(data)
    claims = data.claims
    verified = indicators["claims verified"]
    no_evidence = claims.filter(pl.col("label").is_not_null() & pl.col("evidence_text").is_null()).height
    verifier = claims["verifier"].drop_nulls().unique().sort().to_list()
    sections = [
        f"# {q['question']}",
        f"*litsynth report for `{q['question_id']}` · {(generated or dt.date.today()).isoformat()} · every figure below is a query over the warehouse*",
        "## Abstract",
        (
            f"This synthesis addresses: {q['question']} From {data.corpus['papers']} papers in the corpus, "
            f"{selected.height} were selected by hybrid relevance; {claims.height} complete claims were extracted from them, "
            f"{verified} were checked against evidence retrieved from other papers "
            f"({indicators['claims supported']} supported, {indicators['claims contradicted']} contradicted, "
            f"{indicators['claims with not enough evidence']} with not enough evidence). "
            f"{data.leaderboard.filter(pl.col('status') == 'measured').height} retrieval models were measured on finding each claim's evidence."
        ),
        "## 1 Introduction",
        f"Research question: {q['question']}" + (f"\n\nSearch keywords: {', '.join(q['keywords'])}." if q["keywords"] else ""),
        "## 2 Methodology",
        "\n".join(
            [
                f"- **Corpus**: {data.corpus['files']} input files ({data.corpus['rejected']} rejected, {data.corpus['duplicates']} duplicates, each with its reason in `documents`) gave {data.corpus['papers']} deduplicated papers.",
                f"- **Selection**: every paper ranked by BM25 (DuckDB fts) fused by reciprocal rank with dense similarity ({selected['dense_model'][0] if selected.height else 'n/a'}); selected when within the top ranks and above the similarity floor ({selected.height} of {data.papers.height}).",
                f"- **Claims**: sentence-aware chunks within every text model's token limit; complete sentences stating results, comparisons, methods, definitions, datasets or limitations, with exact source offsets ({claims.height} claims).",
                f"- **Verification**: evidence retrieved (hybrid) from passages of *other* papers only; verifier: {', '.join(verifier) or 'not run'}; a separate grounding check against each claim's own source.",
                "- **Retrieval evaluation**: each model retrieves each claim's source chunk among the question's chunks (Recall@1/5/10, MRR@10, nDCG@10).",
            ]
        ),
        "## 3 Results",
        "### 3.1 Quality indicators (in place of a review score)",
        _table(["indicator", "value"], [[k, v] for k, v in indicators.items()]),
        "### 3.2 Selected papers",
        _table(
            ["rank", "title", "source", "date", "text", "BM25", "similarity"],
            [[r["rank"], _cell(r["title"], 90), _arxiv(r["arxiv_id"]), r["published"], r["text_level"], r["bm25_score"], r["dense_similarity"]] for r in selected.iter_rows(named=True)],
        ),
        "### 3.3 Model leaderboard (finding each claim's evidence)",
        _table(
            ["rank", "model", "nDCG@10", "R@1", "R@5", "R@10", "MRR@10", "queries", "note"],
            [[r["rank"] if r["status"] == "measured" else "—", r["model_id"], r["ndcg_10"], r["recall_1"], r["recall_5"], r["recall_10"], r["mrr_10"], r["queries"], _cell(r["reason"], 80) if r["reason"] else ""] for r in data.leaderboard.iter_rows(named=True)],
        ),
    ]
    if plot_file:
        sections.append(f"![Recall@k and nDCG@10 per model]({plot_file})")
    if data.benchmarks.height:
        sections += [
            "### 3.4 The same models on public benchmarks",
            _table(
                ["benchmark", "metric", "model", "measured", "published", "note"],
                [[r["benchmark"], r["metric"], r["model_id"], r["value"], r["published"], _cell(r["reason"], 60) if r["reason"] else ""] for r in data.benchmarks.iter_rows(named=True)],
            ),
        ]
    sections += ["## 4 Extracted claims", _claims_markdown(claims)]
    sections += ["## 5 Limitations", _limitations(data, no_evidence)]
    if data.prior_audit.height:
        sections += [
            "## 6 Audit of the prior machine-written report",
            _table(
                ["#", "as printed", "complete?", "found in sources", "source / reason"],
                [[r["position"], _cell(r["printed_text"], 110), "yes" if r["printed_complete"] else "cut off", _cell(r["completed_text"], 160) if r["matched"] else "no", r["source_title"] if r["matched"] else r["reason"]] for r in data.prior_audit.iter_rows(named=True)],
            ),
        ]
    sections += ["## References", "\n".join(f"- {r['title']} — {_arxiv(r['arxiv_id'])}" + (f" ({r['published']})" if r["published"] else "") for r in selected.iter_rows(named=True)) or "No paper was selected."]
    return "\n\n".join(sections) + "\n"


def _claims_markdown(claims: pl.DataFrame) -> str:
    if not claims.height:
        return "No claim was extracted: the selected papers state no complete finding, method or limitation."
    blocks = []
    for i, c in enumerate(claims.iter_rows(named=True), start=1):
        verdict = f"**{LABEL_WORDS.get(c['label'], 'not verified')}**" + (f" (confidence {c['confidence']:.2f}, {c['verifier']})" if c["label"] else "")
        lines = [f"{i}. {c['text']}", f"   - type: {c['claim_type']} · source: {c['source_title']} ({_arxiv(c['source_arxiv'])}) · relevance {c['relevance']:.2f}"]
        if c["quantities"]:
            lines.append(f"   - quantities: {c['quantities']}")
        lines.append(f"   - verdict: {verdict}" + (f" · grounding: {c['grounding']}" if c["grounding"] else ""))
        if c["evidence_text"]:
            lines.append(f"   - evidence ({c['evidence_title']}, {_arxiv(c['evidence_arxiv'])}): “{_cell(c['evidence_text'], 400)}”")
        elif c["label"]:
            lines.append(f"   - evidence: none of the {c['evidence_candidates']} passages of other papers was retrieved for this claim")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _limitations(data: ReportData, no_evidence: int) -> str:
    selected = data.papers.filter("selected")
    abstract_only = selected.filter(pl.col("text_level") != "full_text").height
    unverified = data.claims.filter(pl.col("label").is_null()).height
    skipped = data.embedding_status.filter(pl.col("status") == "skipped")
    items = [
        f"- {abstract_only} of {selected.height} selected papers are known only by title and abstract; claims from their full text are missing." if abstract_only else None,
        f"- {no_evidence} claims had no passage from another paper to check them against." if no_evidence else None,
        f"- {unverified} claims are not verified yet (the verifications asset has not run for them)." if unverified else None,
        f"- {data.claims.filter(pl.col('label') == 'not_enough_evidence').height} claims could be neither supported nor contradicted by the corpus.",
        *[f"- Model {r['model_id']} was not measured: {r['reason']}" for r in skipped.iter_rows(named=True)],
        f"- {data.corpus['rejected']} input files were rejected and are not part of the corpus (see `documents`)." if data.corpus["rejected"] else None,
        "- Claims are extracted by transparent rules, not by a language model; paraphrased or multi-sentence findings can be missed.",
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


HTML_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}}
table{{border-collapse:collapse;font-size:.9rem}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}}
img{{max-width:100%}}</style></head><body>
{body}
</body></html>
"""


def render_html(markdown: str, title: str) -> str:
    import html

    import mistune

    body = mistune.create_markdown(escape=True, plugins=["table"])(markdown)
    return HTML_PAGE.format(title=html.escape(title), body=body)
