-- JIT007 request duration too long
-- End time minus start above limits.max_request_duration or the policy's own maximum,
-- whichever is lower (`duration_limit_seconds`, from Rust).
SELECT request_id, time_utc, subscription_id, vm_id, requestor AS caller, source_prefix AS source, port,
       CONCAT('open for ', duration_text, ' (limit ', duration_limit_text, ')') AS detail,
       CONCAT('request ', request_id) AS evidence
FROM requests
WHERE duration_seconds > duration_limit_seconds
