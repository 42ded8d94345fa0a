-- Papers selected for more than one research question.
SELECT p.title, p.arxiv_id, list(qp.question_id ORDER BY qp.question_id) AS questions
FROM question_papers qp JOIN papers p USING (paper_id)
WHERE qp.selected
GROUP BY p.title, p.arxiv_id
HAVING count(*) > 1
ORDER BY p.title;
