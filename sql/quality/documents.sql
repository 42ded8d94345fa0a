-- Frame the documents suite validates (expectations/documents.json).
SELECT document_id, path, status, format, reason,
       status = 'ingested' OR reason IS NOT NULL AS explained
FROM documents
