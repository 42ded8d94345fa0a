-- Every claim in full with its source paper, its verdict, the reason for it and the independent evidence passage.
CREATE OR REPLACE VIEW claims_with_evidence AS
SELECT
    c.question_id,
    c.claim_id,
    c.claim_type,
    c.text AS claim,
    c.relevance,
    p.title AS source_title,
    p.arxiv_id AS source_arxiv_id,
    v.label,
    v.confidence,
    v.verifier,
    e.title AS evidence_title,
    e.arxiv_id AS evidence_arxiv_id,
    v.evidence_text,
    v.grounding,
    v.claim_scope,
    v.reason
FROM claims c
JOIN papers p USING (paper_id)
LEFT JOIN verifications v ON v.question_id = c.question_id AND v.claim_id = c.claim_id
LEFT JOIN papers e ON e.paper_id = v.evidence_paper_id;
