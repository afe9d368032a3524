-- JIT008 missing or poor justification
-- Empty, absent, boilerplate ('test', '.', 'asdf'...) or, when justification.pattern is set,
-- not matching it (`justification_problem`, from Rust).
SELECT request_id, time_utc, subscription_id, vm_id, requestor AS caller, source_prefix AS source, port,
       CONCAT(justification_problem, ': "', COALESCE(justification, ''), '"') AS detail,
       CONCAT('request ', request_id) AS evidence
FROM requests
WHERE justification_problem IS NOT NULL
