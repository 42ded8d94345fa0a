-- Frame the question_files suite validates (expectations/question_files.json).
SELECT file, status, reason, question_id,
       (status = 'loaded') = (reason IS NULL) AS explained,
       (status = 'loaded') = (question_id IS NOT NULL) AS loaded_has_question
FROM question_files
