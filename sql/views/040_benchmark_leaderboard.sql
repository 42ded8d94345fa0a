-- Each model on each public benchmark, measured beside the published figure.
CREATE OR REPLACE VIEW benchmark_leaderboard AS
SELECT
    benchmark, metric, model_id, status, value, published,
    value - published AS difference_from_published,
    rank() OVER (PARTITION BY benchmark, metric ORDER BY value DESC NULLS LAST) AS rank,
    queries, seconds, reason
FROM benchmark_metrics;
