-- Every paper ranked per question by hybrid relevance; partition: question_id.
CREATE TABLE IF NOT EXISTS question_papers (
    question_id      VARCHAR NOT NULL,
    paper_id         VARCHAR NOT NULL,
    bm25_score       DOUBLE NOT NULL,         -- 0 when no query term matches
    bm25_rank        INTEGER,                 -- NULL when no query term matches
    dense_similarity DOUBLE NOT NULL,         -- cosine(question, title + abstract)
    dense_rank       INTEGER NOT NULL,
    fused_score      DOUBLE NOT NULL,         -- reciprocal-rank fusion of the two ranks
    rank             INTEGER NOT NULL,
    selected         BOOLEAN NOT NULL,
    selection_reason VARCHAR NOT NULL,
    dense_model      VARCHAR NOT NULL,
    PRIMARY KEY (question_id, paper_id)
);
