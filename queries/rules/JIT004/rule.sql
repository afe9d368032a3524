-- JIT004 wide-open policy
-- A policy port whose allowed source (either prefix field) is wide, as JIT003 judges it.
SELECT subscription_id, vm_id, allowed_source AS source, port,
       CONCAT('policy ', policy_name, ' lets requests open port ', CAST(port AS VARCHAR), ' to ', allowed_source) AS detail,
       policy_id AS evidence
FROM policies
WHERE source_wide
