-- Which selected papers and claims cover each question concept (every term present); partition: question_id.
CREATE TABLE IF NOT EXISTS concept_coverage (
    question_id VARCHAR NOT NULL,
    concept_id  VARCHAR NOT NULL,
    item_type   VARCHAR NOT NULL CHECK (item_type IN ('paper', 'claim')),
    item_id     VARCHAR NOT NULL,             -- paper_id or claim_id
    paper_id    VARCHAR NOT NULL,
    PRIMARY KEY (question_id, concept_id, item_type, item_id)
);
