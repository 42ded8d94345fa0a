-- One row per question x model partition of the embeddings asset: what was embedded, or why not.
CREATE TABLE IF NOT EXISTS embedding_status (
    question_id   VARCHAR NOT NULL,
    model_id      VARCHAR NOT NULL,
    status        VARCHAR NOT NULL CHECK (status IN ('embedded', 'lexical', 'skipped')),
    reason        VARCHAR,                    -- why skipped, or what a lexical model does instead
    vector_table  VARCHAR,                    -- embeddings_<model> when embedded
    chunks        INTEGER NOT NULL,
    claims        INTEGER NOT NULL,
    newly_embedded INTEGER NOT NULL,          -- cache misses: texts this run had to encode
    truncated     INTEGER NOT NULL,           -- texts longer than the model's max_seq_length
    seconds       DOUBLE NOT NULL,
    PRIMARY KEY (question_id, model_id)
);
