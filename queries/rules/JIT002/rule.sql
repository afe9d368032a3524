-- JIT002 unapproved source
-- The caller's IP or the granted source prefix is not inside network.approved_sources
-- (containment computed in Rust; null when there is nothing to judge).
SELECT request_id, time_utc, subscription_id, vm_id, requestor AS caller, source_prefix AS source, port,
       CONCAT('caller IP ', COALESCE(caller_ip, 'unknown'), ', granted source ', COALESCE(source_prefix, 'unknown'),
              ': outside the approved sources') AS detail,
       CONCAT('request ', request_id) AS evidence
FROM requests
WHERE caller_ip_approved = false OR source_approved = false
