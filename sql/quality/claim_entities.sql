-- Frame the claim_entities suite validates (expectations/claim_entities.json); $partition: a question id or NULL for all.
SELECT e.question_id, e.claim_id, e.kind, e.name, e.claim_scope,
       e.question_id || '/' || e.claim_id || '/' || e.position AS row_key,
       c.claim_id IS NOT NULL AND (e.resolved_from IS NOT NULL OR strpos(c.text, e.name) > 0) AS named_in_claim,
       e.resolved_from IS NULL OR strpos(lower(c.text), lower(e.resolved_from)) > 0 AS self_reference_in_claim
FROM claim_entities e
LEFT JOIN claims c ON c.question_id = e.question_id AND c.claim_id = e.claim_id
WHERE $partition IS NULL OR e.question_id = $partition
