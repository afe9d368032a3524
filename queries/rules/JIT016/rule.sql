-- JIT016 caller IP mismatch
-- The granted source prefix does not contain the IP the request came from: access opened for
-- somebody else's address.
SELECT request_id, time_utc, subscription_id, vm_id, requestor AS caller, source_prefix AS source, port,
       CONCAT('requested from ', caller_ip, ' but opened for ', source_prefix) AS detail,
       CONCAT('request ', request_id) AS evidence
FROM requests
WHERE source_contains_caller_ip = false
