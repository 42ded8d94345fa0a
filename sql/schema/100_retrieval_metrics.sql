-- How well each model finds a claim's evidence among the question's chunks; partition: question_id x model_id.
-- Queries are the question's claims; relevant: each claim's source chunk (and chunks the verifier
-- marked as supporting evidence, once verifications exist).
CREATE TABLE IF NOT EXISTS retrieval_metrics (
    question_id VARCHAR NOT NULL,
    model_id    VARCHAR NOT NULL,
    status      VARCHAR NOT NULL CHECK (status IN ('measured', 'skipped')),
    reason      VARCHAR,                      -- why skipped
    queries     INTEGER NOT NULL,
    documents   INTEGER NOT NULL,
    recall_1    DOUBLE,
    recall_5    DOUBLE,
    recall_10   DOUBLE,
    mrr_10      DOUBLE,
    ndcg_10     DOUBLE,
    PRIMARY KEY (question_id, model_id)
);
