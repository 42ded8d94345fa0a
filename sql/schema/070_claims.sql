-- Complete claims from the selected papers, typed, with their exact source span; partition: question_id.
CREATE TABLE IF NOT EXISTS claims (
    question_id VARCHAR NOT NULL,
    claim_id    VARCHAR NOT NULL,             -- content hash of (paper, span, text)
    paper_id    VARCHAR NOT NULL,
    chunk_id    VARCHAR NOT NULL,             -- the chunk holding the span
    char_start  INTEGER NOT NULL,             -- into papers.paper_text
    char_end    INTEGER NOT NULL,
    text        VARCHAR NOT NULL,             -- a complete sentence, never cut
    claim_type  VARCHAR NOT NULL,             -- result, comparison, method, definition, limitation, dataset
    relevance   DOUBLE NOT NULL,              -- cosine(question, claim) under the selection model
    extractor   VARCHAR NOT NULL,
    PRIMARY KEY (question_id, claim_id)
);

-- The quantities a claim states ("8.1% in p-MRR", "from 23.8 to 24.3").
CREATE TABLE IF NOT EXISTS claim_quantities (
    question_id VARCHAR NOT NULL,
    claim_id    VARCHAR NOT NULL,
    position    INTEGER NOT NULL,             -- order within the claim, from 0
    metric      VARCHAR,
    value       DOUBLE NOT NULL,
    unit        VARCHAR,                      -- %, x, points, or NULL
    dataset     VARCHAR,
    model       VARCHAR,
    from_value  DOUBLE,
    to_value    DOUBLE,
    counted     VARCHAR,                      -- what a count counts ("triplets")
    raw         VARCHAR NOT NULL,             -- the matched text
    PRIMARY KEY (question_id, claim_id, position)
);
