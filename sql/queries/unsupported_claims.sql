-- Claims the corpus does not back: contradicted or without enough independent evidence.
SELECT question_id, label, round(confidence, 2) AS confidence, claim, source_title, evidence_title
FROM claims_with_evidence
WHERE label IN ('contradicted', 'not_enough_evidence')
ORDER BY question_id, label, confidence DESC;
