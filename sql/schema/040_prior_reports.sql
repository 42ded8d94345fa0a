-- Machine-written synthesis reports imported to be audited (e.g. seeds 000 and 004).
CREATE TABLE IF NOT EXISTS prior_reports (
    report_id         VARCHAR PRIMARY KEY,
    document_id       VARCHAR NOT NULL,
    title             VARCHAR NOT NULL,
    research_question VARCHAR NOT NULL,
    question_id       VARCHAR,                -- the bundled question it matches, if any
    report_date       DATE,
    papers_stated     INTEGER,
    claims_stated     INTEGER,
    verified_stated   INTEGER,
    review_score      DOUBLE,                 -- the opaque score the report printed
    subject_title     VARCHAR
);

CREATE TABLE IF NOT EXISTS prior_report_claims (
    prior_claim_id VARCHAR PRIMARY KEY,
    report_id      VARCHAR NOT NULL,
    position       INTEGER NOT NULL,          -- 1-based row of the report's claims table
    text           VARCHAR NOT NULL,          -- exactly as printed (possibly truncated)
    verified       BOOLEAN NOT NULL,
    confidence     DOUBLE
);

CREATE TABLE IF NOT EXISTS prior_report_references (
    report_id  VARCHAR NOT NULL,
    arxiv_id   VARCHAR NOT NULL,
    paper_id   VARCHAR,                       -- NULL when the referenced paper is not in the corpus
    PRIMARY KEY (report_id, arxiv_id)
);
