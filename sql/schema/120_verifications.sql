-- Every claim of the question checked against independent evidence (passages of *other* papers);
-- partition: question_id.
CREATE TABLE IF NOT EXISTS verifications (
    question_id        VARCHAR NOT NULL,
    claim_id           VARCHAR NOT NULL,
    verifier           VARCHAR NOT NULL,      -- e.g. baseline, trained:<version>
    label              VARCHAR NOT NULL CHECK (label IN ('supported', 'contradicted', 'not_enough_evidence')),
    confidence         DOUBLE NOT NULL,       -- calibrated probability of the label (P(not enough evidence) of the passage when set aside)
    evidence_paper_id  VARCHAR,               -- NULL when no independent passage was retrieved
    evidence_chunk_id  VARCHAR,
    evidence_text      VARCHAR,               -- the passage (or its best sentence) shown to readers
    evidence_score     DOUBLE,                -- retrieval score of the passage
    evidence_candidates INTEGER NOT NULL,     -- passages of other papers considered
    grounding          VARCHAR NOT NULL,      -- faithful / paraphrased / unfaithful vs the claim's own source
    grounding_score    DOUBLE NOT NULL,
    claim_scope        VARCHAR NOT NULL CHECK (claim_scope IN ('own', 'named', 'comparison', 'general')),  -- litsynth.entities
    reason             VARCHAR NOT NULL,      -- why this label: the evidence rule applied, or why there is none
    PRIMARY KEY (question_id, claim_id)
);
