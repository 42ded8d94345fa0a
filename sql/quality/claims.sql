-- Frame the claims suite validates (expectations/claims.json); $partition: a question id or NULL for all.
SELECT c.question_id, c.claim_id, c.paper_id, c.text, c.claim_type, c.relevance,
       c.question_id || '/' || c.claim_id AS row_key,
       substring(p.paper_text, c.char_start + 1, c.char_end - c.char_start) = c.text AS span_matches,
       k.chunk_id IS NOT NULL AND k.char_start < c.char_end AND c.char_start < k.char_end AS chunk_overlaps_span
FROM claims c
LEFT JOIN papers p USING (paper_id)
LEFT JOIN chunks k ON k.question_id = c.question_id AND k.chunk_id = c.chunk_id
WHERE $partition IS NULL OR c.question_id = $partition
