-- The concepts of each research question (litsynth.concepts); partition: question_id.
CREATE TABLE IF NOT EXISTS question_concepts (
    question_id VARCHAR NOT NULL,
    concept_id  VARCHAR NOT NULL,             -- content hash of (question, concept)
    position    INTEGER NOT NULL,
    concept     VARCHAR NOT NULL,             -- as written in the question or its keywords
    source      VARCHAR NOT NULL CHECK (source IN ('keyword', 'entity', 'question')),
    terms       VARCHAR[] NOT NULL,           -- the content terms a text must hold to cover it
    PRIMARY KEY (question_id, concept_id)
);
