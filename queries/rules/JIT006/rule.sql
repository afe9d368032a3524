-- JIT006 policy duration too long
-- maxRequestAccessDuration above limits.max_policy_duration.
SELECT DISTINCT subscription_id, vm_id, port,
       CONCAT('policy ', policy_name, ' allows requests of up to ', max_duration, ' on port ', CAST(port AS VARCHAR),
              ' (limit ', :max_policy_duration_text, ')') AS detail,
       policy_id AS evidence
FROM policies
WHERE max_duration_seconds > :max_policy_duration
