-- JIT003 wide-open request
-- The granted source is *, Any, Internet, 0.0.0.0/0, ::/0 or a prefix shorter than
-- network.min_prefix_length (`source_wide`, computed in Rust).
SELECT request_id, time_utc, subscription_id, vm_id, requestor AS caller, source_prefix AS source, port,
       CONCAT('port opened to ', source_prefix) AS detail,
       CONCAT('request ', request_id) AS evidence
FROM requests
WHERE source_wide
