-- The systems, datasets and metrics each claim names (litsynth.entities); partition: question_id.
-- A claim about its paper's own contribution ("our method") has its paper's system resolved here.
CREATE TABLE IF NOT EXISTS claim_entities (
    question_id   VARCHAR NOT NULL,
    claim_id      VARCHAR NOT NULL,
    position      INTEGER NOT NULL,           -- order of appearance, resolved systems last
    kind          VARCHAR NOT NULL CHECK (kind IN ('system', 'dataset', 'metric')),
    name          VARCHAR NOT NULL,           -- as written, or the paper's system a self-reference resolves to
    name_key      VARCHAR NOT NULL,           -- casefolded letters and digits: how names are compared
    is_subject    BOOLEAN NOT NULL,           -- what the claim is about (a system, or a paper's own benchmark): evidence must be about it too
    resolved_from VARCHAR,                    -- the self-reference ("we", "our") the name was resolved from
    claim_scope   VARCHAR NOT NULL CHECK (claim_scope IN ('own', 'named', 'comparison', 'general')),
    PRIMARY KEY (question_id, claim_id, position)
);
