-- Every entry of the questions folder, accounted for as documents is for corpus files: loaded
-- (its question is in questions) or rejected with the reason (the file, the field and the fix).
CREATE TABLE IF NOT EXISTS question_files (
    file           VARCHAR PRIMARY KEY,  -- relative to the project root where possible
    status         VARCHAR NOT NULL CHECK (status IN ('loaded', 'rejected')),
    reason         VARCHAR,              -- why rejected; NULL when loaded
    question_id    VARCHAR,              -- the question it holds; NULL when rejected
    content_sha256 VARCHAR               -- NULL when the entry could not be read
);
