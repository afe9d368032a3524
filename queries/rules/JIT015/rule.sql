-- JIT015 unapproved requestor
-- A requestor not in requestors.allowed (when set), or a service principal when
-- requestors.allow_service_principals = false (`requestor_problem`, from Rust).
SELECT request_id, time_utc, subscription_id, vm_id, requestor AS caller, source_prefix AS source, port,
       CONCAT(requestor, ': ', requestor_problem) AS detail,
       CONCAT('request ', request_id) AS evidence
FROM requests
WHERE requestor_problem IS NOT NULL
