-- Claims that state a measured quantity (metric, value, dataset), most relevant first.
SELECT c.question_id, c.claim_type, q.metric, q.value, q.unit, q.dataset, q.model, c.text
FROM claims c
JOIN claim_quantities q USING (question_id, claim_id)
WHERE q.metric IS NOT NULL
ORDER BY c.question_id, c.relevance DESC, q.position;
