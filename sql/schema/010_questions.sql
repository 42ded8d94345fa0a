-- One row per research question (questions/*.yaml); question_id is the question partition key.
CREATE TABLE IF NOT EXISTS questions (
    question_id   VARCHAR PRIMARY KEY,
    question      VARCHAR NOT NULL,
    keywords      VARCHAR[] NOT NULL,
    benchmarks    VARCHAR[] NOT NULL,         -- benchmark families (beir, coco-captions) shown on its leaderboard
    source_file   VARCHAR NOT NULL,
    content_sha256 VARCHAR NOT NULL,
    loaded_at     TIMESTAMP NOT NULL
);
