-- title: Who changed JIT policies
-- description: Every write and delete of a JIT policy in the Activity Log, with caller, address and outcome.
SELECT time, caller, caller_kind, caller_ip, operation_id, status, resource_id, correlation_id
FROM events
WHERE operation_id IN ('microsoft.security/locations/jitnetworkaccesspolicies/write',
                       'microsoft.security/locations/jitnetworkaccesspolicies/delete')
ORDER BY time
