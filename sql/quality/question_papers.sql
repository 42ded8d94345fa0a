-- Frame the question_papers suite validates (expectations/question_papers.json).
SELECT qp.question_id, qp.paper_id, qp.rank, qp.dense_similarity, qp.selected,
       qp.question_id || '/' || qp.paper_id AS row_key,
       p.paper_id IS NOT NULL AS paper_exists
FROM question_papers qp LEFT JOIN papers p USING (paper_id)
WHERE $partition IS NULL OR qp.question_id = $partition
