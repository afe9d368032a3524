-- JIT001 odd-hour request
-- A request starting outside business hours, on a non-business day or on a holiday, judged in
-- the caller's own time zone (callers.<caller>.timezone, else timezone). `in_business_hours`,
-- `local_time`, `zone` and `off_hours_reason` are computed in Rust from the IANA zone rules,
-- so daylight saving time is right.
SELECT request_id, time_utc, subscription_id, vm_id, requestor AS caller, source_prefix AS source, port,
       CONCAT('requested at ', local_time, ' ', zone, ' (', off_hours_reason, ')') AS detail,
       CONCAT('request ', request_id) AS evidence
FROM requests
WHERE NOT in_business_hours
