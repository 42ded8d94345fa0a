-- Vectors by (model, text hash), shared across partitions and runs, so a re-run only embeds
-- text it has not seen with that model.
CREATE TABLE IF NOT EXISTS embedding_cache (
    model_id    VARCHAR NOT NULL,
    text_sha256 VARCHAR NOT NULL,
    vector      FLOAT[] NOT NULL,
    PRIMARY KEY (model_id, text_sha256)
);
