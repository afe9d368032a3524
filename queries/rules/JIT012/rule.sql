-- JIT012 JIT policy changed or deleted
-- jitNetworkAccessPolicies/write and /delete that succeeded, by anyone other than the
-- callers in policy_changes.allowed_callers; `change` summarises the written ports.
SELECT time_utc, subscription_id, caller, caller_ip AS source,
       CONCAT(CASE WHEN operation_id LIKE '%/delete' THEN 'policy deleted' ELSE 'policy written' END,
              ' by ', COALESCE(caller, 'unknown'),
              CASE WHEN change IS NULL THEN '' ELSE CONCAT(': ', change) END) AS detail,
       CONCAT(resource_id, ' correlation ', COALESCE(correlation_id, '')) AS evidence
FROM jit_events
WHERE operation_id IN ('microsoft.security/locations/jitnetworkaccesspolicies/write',
                       'microsoft.security/locations/jitnetworkaccesspolicies/delete')
  AND status IN ('Succeeded', 'Accepted')
  AND NOT allowed_writer
