-- One row per paper, deduplicated by arXiv id, else by normalised title; fields merged from
-- every source that describes the paper (paper_sources), the most authoritative first.
CREATE TABLE IF NOT EXISTS papers (
    paper_id        VARCHAR PRIMARY KEY,      -- content hash of the dedup key
    dedup_key       VARCHAR NOT NULL UNIQUE,  -- 'arxiv:<id>' or 'title:<normalised title>'
    arxiv_id        VARCHAR,
    arxiv_version   INTEGER,
    title           VARCHAR NOT NULL,
    abstract        VARCHAR,
    full_text       VARCHAR,
    ai_summary      VARCHAR,                  -- a page's machine summary, never mixed into abstract
    authors         VARCHAR[] NOT NULL,
    published       VARCHAR,                  -- ISO date or year
    organisation    VARCHAR,
    categories      VARCHAR[] NOT NULL,
    external_id     VARCHAR,
    url             VARCHAR,
    paper_text      VARCHAR NOT NULL,         -- title, abstract, full text: what chunk/claim offsets index
    text_level      VARCHAR NOT NULL CHECK (text_level IN ('title_only', 'abstract', 'full_text')),
    source_count    INTEGER NOT NULL
);
