-- Frame the claim_relations suite validates (expectations/claim_relations.json); $partition: a question id or NULL for all.
SELECT r.question_id, r.relation, r.basis, r.score,
       r.question_id || '/' || r.relation_id AS row_key,
       a.paper_id IS NOT NULL AND b.paper_id IS NOT NULL AND a.paper_id <> b.paper_id AS across_papers,
       r.basis = 'verdict' OR (r.benchmark IS NOT NULL AND r.metric IS NOT NULL AND r.claim_quantity IS NOT NULL AND r.other_quantity IS NOT NULL) AS figures_stated,
       r.relation <> 'conflicts' OR r.basis = 'verdict' OR r.shared_entity IS NOT NULL AS conflict_names_system
FROM claim_relations r
LEFT JOIN claims a ON a.question_id = r.question_id AND a.claim_id = r.claim_id
LEFT JOIN claims b ON b.question_id = r.question_id AND b.claim_id = r.other_claim_id
WHERE $partition IS NULL OR r.question_id = $partition
