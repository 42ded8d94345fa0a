-- Sentence-aware, token-bounded passages of the selected papers; partition: question_id.
-- papers.paper_text[char_start:char_end] (0-based, end exclusive) is exactly `text`.
CREATE TABLE IF NOT EXISTS chunks (
    question_id  VARCHAR NOT NULL,
    chunk_id     VARCHAR NOT NULL,            -- content hash of (paper, span, text)
    paper_id     VARCHAR NOT NULL,
    position     INTEGER NOT NULL,            -- order within the paper, from 0
    char_start   INTEGER NOT NULL,
    char_end     INTEGER NOT NULL,
    text         VARCHAR NOT NULL,
    n_tokens     INTEGER NOT NULL,            -- the most any catalog tokenizer counts
    token_budget INTEGER NOT NULL,            -- the smallest max_seq_length of the text models
    PRIMARY KEY (question_id, chunk_id)
);
