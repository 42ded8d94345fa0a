-- Every input file seen by ingestion, accounted for: ingested, duplicate (same bytes as an
-- earlier file) or rejected, always with the reason.
CREATE TABLE IF NOT EXISTS documents (
    document_id     VARCHAR PRIMARY KEY,      -- content hash of (path, sha256)
    path            VARCHAR NOT NULL UNIQUE,  -- relative to the project root where possible
    size_bytes      BIGINT NOT NULL,
    sha256          VARCHAR,                  -- NULL when the file could not be read
    format          VARCHAR,                  -- parser that read it, e.g. listing_page, arxiv_jsonl
    status          VARCHAR NOT NULL CHECK (status IN ('ingested', 'duplicate', 'rejected')),
    reason          VARCHAR,                  -- why rejected / duplicate of what / records skipped
    duplicate_of    VARCHAR,                  -- path of the first file with the same bytes
    papers_found    INTEGER NOT NULL,
    reports_found   INTEGER NOT NULL,
    records_skipped INTEGER NOT NULL,
    ingested_at     TIMESTAMP NOT NULL
);
