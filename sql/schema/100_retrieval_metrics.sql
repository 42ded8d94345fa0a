-- How well each model retrieves within the question's passages; partition: question_id x model_id.
-- Inverse cloze (litsynth.evaluation.question_retrieval.PROTOCOL): each claim is a query for the rest of its
-- own passage with the claim sentence cut out, among all claims' contexts; no query is a substring of its relevant one.
CREATE TABLE IF NOT EXISTS retrieval_metrics (
    question_id VARCHAR NOT NULL,
    model_id    VARCHAR NOT NULL,
    status      VARCHAR NOT NULL CHECK (status IN ('measured', 'skipped')),
    reason      VARCHAR,                      -- why skipped
    queries     INTEGER NOT NULL,             -- claims with a context of at least MIN_CONTEXT_WORDS words
    documents   INTEGER NOT NULL,             -- contexts searched
    recall_1    DOUBLE,
    recall_5    DOUBLE,
    recall_10   DOUBLE,
    mrr_10      DOUBLE,
    ndcg_10     DOUBLE,
    PRIMARY KEY (question_id, model_id)
);
