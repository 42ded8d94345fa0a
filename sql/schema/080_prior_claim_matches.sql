-- Each claim of a prior report written for the question, traced to its full source sentence
-- or recorded as unmatched with the reason; partition: question_id.
CREATE TABLE IF NOT EXISTS prior_claim_matches (
    question_id    VARCHAR NOT NULL,
    prior_claim_id VARCHAR NOT NULL,
    report_id      VARCHAR NOT NULL,
    printed_text   VARCHAR NOT NULL,          -- as the report printed it
    printed_complete BOOLEAN NOT NULL,        -- false when the report cut it off
    matched        BOOLEAN NOT NULL,
    paper_id       VARCHAR,
    char_start     INTEGER,
    char_end       INTEGER,
    source_text    VARCHAR,                   -- the full sentence in papers.paper_text
    method         VARCHAR,                   -- prefix | fuzzy
    score          DOUBLE NOT NULL,
    reason         VARCHAR,                   -- why unmatched
    PRIMARY KEY (question_id, prior_claim_id)
);
