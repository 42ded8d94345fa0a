-- Vectors of one catalog model as fixed-size FLOAT[{dim}] (one table per model: dimensions differ),
-- created from models.yaml as embeddings_<model id>; partition: question_id.
CREATE TABLE IF NOT EXISTS {table} (
    question_id VARCHAR NOT NULL,
    item_type   VARCHAR NOT NULL CHECK (item_type IN ('chunk', 'claim')),
    item_id     VARCHAR NOT NULL,             -- chunk_id or claim_id
    paper_id    VARCHAR NOT NULL,
    text_sha256 VARCHAR NOT NULL,             -- key into embedding_cache
    vector      FLOAT[{dim}] NOT NULL,        -- L2-normalised: cosine = dot product
    PRIMARY KEY (question_id, item_type, item_id)
);
