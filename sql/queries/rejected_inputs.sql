-- Input files that did not make it into the corpus, and why.
SELECT path, status, reason, size_bytes
FROM documents
WHERE status <> 'ingested' OR records_skipped > 0
ORDER BY status, path;
