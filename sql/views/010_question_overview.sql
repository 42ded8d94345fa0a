-- What litsynth holds per research question: papers, claims, verdicts, prior-report audit.
CREATE OR REPLACE VIEW question_overview AS
SELECT
    q.question_id,
    q.question,
    (SELECT count(*) FROM question_papers qp WHERE qp.question_id = q.question_id) AS papers_ranked,
    (SELECT count(*) FROM question_papers qp WHERE qp.question_id = q.question_id AND qp.selected) AS papers_selected,
    (SELECT count(*) FROM chunks c WHERE c.question_id = q.question_id) AS chunks,
    (SELECT count(*) FROM claims c WHERE c.question_id = q.question_id) AS claims,
    (SELECT count(*) FROM verifications v WHERE v.question_id = q.question_id AND v.label = 'supported') AS claims_supported,
    (SELECT count(*) FROM verifications v WHERE v.question_id = q.question_id AND v.label = 'contradicted') AS claims_contradicted,
    (SELECT count(*) FROM verifications v WHERE v.question_id = q.question_id AND v.label = 'not_enough_evidence') AS claims_not_enough_evidence,
    (SELECT count(*) FROM prior_claim_matches m WHERE m.question_id = q.question_id) AS prior_claims,
    (SELECT count(*) FROM prior_claim_matches m WHERE m.question_id = q.question_id AND m.matched) AS prior_claims_matched
FROM questions q;
