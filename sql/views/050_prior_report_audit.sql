-- The claims of imported machine-written reports: as printed, and as found in the sources.
CREATE OR REPLACE VIEW prior_report_audit AS
SELECT
    r.title AS report_title,
    r.review_score AS printed_review_score,
    m.question_id,
    c.position,
    m.printed_text,
    m.printed_complete,
    m.matched,
    m.source_text AS completed_text,
    p.title AS source_title,
    m.reason
FROM prior_claim_matches m
JOIN prior_report_claims c USING (prior_claim_id)
JOIN prior_reports r ON r.report_id = m.report_id
LEFT JOIN papers p ON p.paper_id = m.paper_id;
