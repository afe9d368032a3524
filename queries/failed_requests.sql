-- title: Failed JIT requests
-- description: Initiate attempts that failed, one row per attempt, with the failure recorded.
SELECT time, caller, caller_ip, sub_status, resource_id, correlation_id
FROM events
WHERE operation_id = 'microsoft.security/locations/jitnetworkaccesspolicies/initiate/action'
  AND status = 'Failed'
ORDER BY time
