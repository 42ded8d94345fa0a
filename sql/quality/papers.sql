-- Frame the papers suite validates (expectations/papers.json).
SELECT paper_id, dedup_key, arxiv_id, title, abstract, text_level, source_count,
       length(title) AS title_length
FROM papers
