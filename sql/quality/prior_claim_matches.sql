-- Frame the prior_claim_matches suite validates (expectations/prior_claim_matches.json).
SELECT m.question_id, m.prior_claim_id, m.matched, m.reason, m.source_text,
       m.question_id || '/' || m.prior_claim_id AS row_key,
       (m.matched AND m.source_text IS NOT NULL
            AND substring(p.paper_text, m.char_start + 1, m.char_end - m.char_start) = m.source_text)
           OR (NOT m.matched AND m.reason IS NOT NULL) AS explained
FROM prior_claim_matches m LEFT JOIN papers p USING (paper_id)
WHERE $partition IS NULL OR m.question_id = $partition
