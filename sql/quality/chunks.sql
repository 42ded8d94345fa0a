-- Frame the chunks suite validates (expectations/chunks.json); $partition: a question id or NULL for all.
SELECT c.question_id, c.chunk_id, c.paper_id, c.text, c.n_tokens, c.token_budget,
       c.question_id || '/' || c.chunk_id AS row_key,
       substring(p.paper_text, c.char_start + 1, c.char_end - c.char_start) = c.text AS span_matches,
       c.n_tokens <= c.token_budget AS within_budget
FROM chunks c LEFT JOIN papers p USING (paper_id)
WHERE $partition IS NULL OR c.question_id = $partition
