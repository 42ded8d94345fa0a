"""The warehouse's tables as the stages read them: one named read per use.

Assets read through these functions and write through :func:`litsynth.warehouse.replace_rows`
(frames typed by :func:`litsynth.warehouse.frame_schema`, from ``sql/schema/``), so the SQL a
stage depends on lives in one place.
"""

from __future__ import annotations

import duckdb
from litsynth.extraction import PaperText

# --- corpus and selection -------------------------------------------------------------------

def corpus_papers(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(paper_id, title, abstract) of every paper, the texts selection ranks."""
    return con.execute("SELECT paper_id, title, abstract FROM papers ORDER BY paper_id").fetchall()


def corpus_paper_texts(con: duckdb.DuckDBPyConnection) -> list[PaperText]:
    """Every paper's text, for tracing prior reports' claims to their source."""
    return [PaperText(*row) for row in con.execute("SELECT paper_id, paper_text, text_level, arxiv_id FROM papers ORDER BY paper_id").fetchall()]


def document_count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM documents").fetchone()[0]


def selected_per_question(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute(
        "SELECT question_id, count(*) FILTER (WHERE selected) FROM question_papers GROUP BY question_id ORDER BY question_id"
    ).fetchall())


def selected_papers(con: duckdb.DuckDBPyConnection, question_id: str) -> list[PaperText]:
    """The question's selected papers, best rank first."""
    return [PaperText(*row) for row in con.execute(
        """SELECT p.paper_id, p.paper_text, p.text_level, p.arxiv_id
           FROM question_papers qp JOIN papers p USING (paper_id)
           WHERE qp.question_id = ? AND qp.selected ORDER BY qp.rank""",
        [question_id],
    ).fetchall()]


def selected_paper_titles(con: duckdb.DuckDBPyConnection, question_id: str) -> list[tuple[str, str, str]]:
    """(paper_id, title, paper_text) of the question's selected papers, best rank first."""
    return con.execute(
        """SELECT p.paper_id, p.title, p.paper_text
           FROM question_papers qp JOIN papers p USING (paper_id)
           WHERE qp.question_id = ? AND qp.selected ORDER BY qp.rank""",
        [question_id],
    ).fetchall()


# --- extraction ---------------------------------------------------------------------------

def question_chunks(con: duckdb.DuckDBPyConnection, question_id: str) -> list[tuple[str, str, int, int, str, int]]:
    """(chunk_id, paper_id, char_start, char_end, text, n_tokens), by chunk id."""
    return con.execute(
        "SELECT chunk_id, paper_id, char_start, char_end, text, n_tokens FROM chunks WHERE question_id = ? ORDER BY chunk_id",
        [question_id],
    ).fetchall()


def chunks_in_paper_order(con: duckdb.DuckDBPyConnection, question_id: str) -> list[tuple[str, int, int, str, int]]:
    """(paper_id, char_start, char_end, text, n_tokens) in reading order within each paper."""
    return con.execute(
        "SELECT paper_id, char_start, char_end, text, n_tokens FROM chunks WHERE question_id = ? ORDER BY paper_id, position",
        [question_id],
    ).fetchall()


def question_claims(con: duckdb.DuckDBPyConnection, question_id: str) -> list[tuple[str, str, str, str, int, int]]:
    """(claim_id, paper_id, text, chunk_id, char_start, char_end), by claim id."""
    return con.execute(
        "SELECT claim_id, paper_id, text, chunk_id, char_start, char_end FROM claims WHERE question_id = ? ORDER BY claim_id",
        [question_id],
    ).fetchall()


def prior_claims(con: duckdb.DuckDBPyConnection, question_id: str) -> list[dict]:
    """The claims of the question's prior reports, in report order."""
    return con.execute(
        """SELECT c.prior_claim_id, c.report_id, c.text FROM prior_report_claims c JOIN prior_reports r USING (report_id)
           WHERE r.question_id = ? ORDER BY c.report_id, c.position""",
        [question_id],
    ).pl().to_dicts()


def prior_references(con: duckdb.DuckDBPyConnection, question_id: str) -> dict[str, list[str]]:
    """report_id -> the arXiv ids each prior report of the question cites."""
    return dict(con.execute(
        """SELECT report_id, list(arxiv_id ORDER BY arxiv_id) FROM prior_report_references
           WHERE report_id IN (SELECT report_id FROM prior_reports WHERE question_id = ?) GROUP BY report_id""",
        [question_id],
    ).fetchall())


def embedding_items(con: duckdb.DuckDBPyConnection, question_id: str) -> list[tuple[str, str, str, str]]:
    """(item_type, item_id, paper_id, text) of the question's chunks and claims, the texts a model embeds."""
    return con.execute(
        """SELECT 'chunk' AS item_type, chunk_id AS item_id, paper_id, text FROM chunks WHERE question_id = ?
           UNION ALL
           SELECT 'claim', claim_id, paper_id, text FROM claims WHERE question_id = ?
           ORDER BY item_type, item_id""",
        [question_id, question_id],
    ).fetchall()


# --- verification ---------------------------------------------------------------------------

def question_verdicts(con: duckdb.DuckDBPyConnection, question_id: str) -> list[dict]:
    """claim_id, label, confidence and the evidence chunk of each verified claim."""
    return con.execute(
        "SELECT claim_id, label, confidence, evidence_chunk_id, evidence_text FROM verifications WHERE question_id = ? ORDER BY claim_id",
        [question_id],
    ).pl().to_dicts()


def question_summary(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int, int, int, int]]:
    """Per question: papers ranked, papers selected, claims, supported and contradicted verdicts."""
    return con.execute(
        """SELECT q.question_id,
                  (SELECT count(*) FROM question_papers qp WHERE qp.question_id = q.question_id),
                  (SELECT count(*) FROM question_papers qp WHERE qp.question_id = q.question_id AND qp.selected),
                  (SELECT count(*) FROM claims c WHERE c.question_id = q.question_id),
                  (SELECT count(*) FROM verifications v WHERE v.question_id = q.question_id AND v.label = 'supported'),
                  (SELECT count(*) FROM verifications v WHERE v.question_id = q.question_id AND v.label = 'contradicted')
           FROM questions q ORDER BY q.question_id"""
    ).fetchall()
