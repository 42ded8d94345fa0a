-- Claims of different papers that bear on each other (litsynth.relations); partition: question_id.
CREATE TABLE IF NOT EXISTS claim_relations (
    question_id    VARCHAR NOT NULL,
    relation_id    VARCHAR NOT NULL,          -- content hash of (claim, other claim, relation, basis, metric, benchmark)
    claim_id       VARCHAR NOT NULL,
    other_claim_id VARCHAR NOT NULL,          -- a claim of another paper
    relation       VARCHAR NOT NULL CHECK (relation IN ('corroborates', 'conflicts', 'same_benchmark_different_results')),
    basis          VARCHAR NOT NULL CHECK (basis IN ('figures', 'verdict')),  -- stated figures compared, or the verifier's evidence
    shared_entity  VARCHAR,                   -- the system both are about, when there is one
    benchmark      VARCHAR,                   -- the dataset both figures are on (figures only)
    metric         VARCHAR,
    claim_quantity VARCHAR,                   -- "<system>: <figure as written>" (figures only)
    other_quantity VARCHAR,
    score          DOUBLE NOT NULL,           -- figures: relative difference; verdict: the verdict's confidence
    PRIMARY KEY (question_id, relation_id)
);
