-- Claims of two papers that disagree: different figures for one system on one benchmark and metric, or a contradicting verdict.
SELECT r.question_id, r.relation, r.basis, r.shared_entity, r.benchmark, r.metric, r.claim_quantity, r.other_quantity,
       a.text AS claim, pa.title AS claim_paper, b.text AS other_claim, pb.title AS other_paper
FROM claim_relations r
JOIN claims a ON a.question_id = r.question_id AND a.claim_id = r.claim_id
JOIN papers pa ON pa.paper_id = a.paper_id
JOIN claims b ON b.question_id = r.question_id AND b.claim_id = r.other_claim_id
JOIN papers pb ON pb.paper_id = b.paper_id
WHERE r.relation IN ('conflicts', 'same_benchmark_different_results')
ORDER BY r.question_id, r.relation, r.score DESC;
