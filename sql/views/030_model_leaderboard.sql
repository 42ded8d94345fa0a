-- Models ranked per question by nDCG@10 at finding each claim's evidence (skipped models last, with the reason).
CREATE OR REPLACE VIEW model_leaderboard AS
SELECT
    question_id,
    model_id,
    status,
    rank() OVER (PARTITION BY question_id ORDER BY ndcg_10 DESC NULLS LAST) AS rank,
    ndcg_10, recall_1, recall_5, recall_10, mrr_10, queries, documents, reason
FROM retrieval_metrics;
