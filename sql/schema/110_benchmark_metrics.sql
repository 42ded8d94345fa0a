-- Each catalog model on a labelled benchmark (BEIR-format text retrieval, COCO-captions image-text
-- retrieval); partition: model_id. Published reference numbers sit beside the measured ones.
CREATE TABLE IF NOT EXISTS benchmark_metrics (
    benchmark   VARCHAR NOT NULL,             -- e.g. beir/scifact:test, coco-captions/coco_mini
    model_id    VARCHAR NOT NULL,
    metric      VARCHAR NOT NULL,             -- ndcg@10, recall@10, text_to_image/recall@1, ...
    value       DOUBLE,                       -- NULL when skipped
    published   DOUBLE,                       -- the published figure for this model, where one exists
    status      VARCHAR NOT NULL CHECK (status IN ('measured', 'skipped')),
    reason      VARCHAR,
    queries     INTEGER,
    seconds     DOUBLE,
    PRIMARY KEY (benchmark, model_id, metric)
);
