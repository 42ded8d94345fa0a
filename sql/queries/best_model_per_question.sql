-- Which model finds each question's claim evidence best (nDCG@10), and by how much over BM25?
SELECT l.question_id, l.model_id AS best_model, l.ndcg_10,
       l.ndcg_10 - b.ndcg_10 AS gain_over_bm25
FROM model_leaderboard l
JOIN model_leaderboard b ON b.question_id = l.question_id AND b.model_id = 'bm25'
WHERE l.rank = 1 AND l.status = 'measured'
ORDER BY l.question_id;
