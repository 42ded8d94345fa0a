-- Per question concept: the selected papers and claims that cover it, their verdicts, or "not covered by the corpus".
CREATE OR REPLACE VIEW question_coverage AS
SELECT
    qc.question_id,
    qc.position,
    qc.concept,
    qc.source,
    count(DISTINCT cc.item_id) FILTER (WHERE cc.item_type = 'paper') AS papers_covering,
    count(DISTINCT cc.item_id) FILTER (WHERE cc.item_type = 'claim') AS claims_covering,
    count(DISTINCT cc.item_id) FILTER (WHERE cc.item_type = 'claim' AND v.label = 'supported') AS claims_supported,
    count(DISTINCT cc.item_id) FILTER (WHERE cc.item_type = 'claim' AND v.label = 'contradicted') AS claims_contradicted,
    string_agg(DISTINCT p.title, ' | ' ORDER BY p.title) FILTER (WHERE cc.item_type = 'paper') AS covering_papers,
    CASE WHEN count(cc.item_id) FILTER (WHERE cc.item_type = 'paper') = 0 THEN 'not covered by the corpus'
         ELSE 'covered by ' || count(DISTINCT cc.item_id) FILTER (WHERE cc.item_type = 'paper') || ' selected paper(s)' END AS answer
FROM question_concepts qc
LEFT JOIN concept_coverage cc ON cc.question_id = qc.question_id AND cc.concept_id = qc.concept_id
LEFT JOIN papers p ON cc.item_type = 'paper' AND p.paper_id = cc.item_id
LEFT JOIN verifications v ON cc.item_type = 'claim' AND v.question_id = cc.question_id AND v.claim_id = cc.item_id
GROUP BY qc.question_id, qc.position, qc.concept, qc.source;
