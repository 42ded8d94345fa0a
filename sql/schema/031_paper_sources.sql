-- Which document described which paper (a paper seen in several files has several rows).
CREATE TABLE IF NOT EXISTS paper_sources (
    paper_id     VARCHAR NOT NULL,
    document_id  VARCHAR NOT NULL,
    format       VARCHAR NOT NULL,
    title_as_seen VARCHAR NOT NULL,
    PRIMARY KEY (paper_id, document_id)
);
