-- The questions folder accounted for, as one row for the report's methodology: how many entries,
-- how many loaded, and each rejected one with its reason (file, field and fix).
CREATE OR REPLACE VIEW question_file_accounting AS
SELECT
    count(*) AS files,
    count(*) FILTER (WHERE status = 'loaded') AS loaded,
    count(*) FILTER (WHERE status = 'rejected') AS rejected,
    coalesce(list({'file': file, 'reason': reason} ORDER BY file) FILTER (WHERE status = 'rejected'), []) AS rejected_files
FROM question_files;
