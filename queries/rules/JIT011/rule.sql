-- JIT011 failed or denied request
-- Initiate attempts that failed, grouped per caller and subscription, with the failure codes
-- seen (one finding per subscription, so routing by subscription keeps every one).
WITH failures AS (
    SELECT caller, subscription_id, MIN(time_utc) AS first_utc,
           COUNT(DISTINCT correlation_id) AS attempts,
           MIN(failure_code) AS code, MIN(correlation_id) AS first_correlation,
           COUNT(DISTINCT vm_id) AS vms, MIN(vm_id) AS one_vm
    FROM jit_events
    WHERE operation_id = 'microsoft.security/locations/jitnetworkaccesspolicies/initiate/action'
      AND status = 'Failed'
    GROUP BY caller, subscription_id
)
-- The VM tried, when every attempt was on one (the request body names it); else how many.
SELECT first_utc AS time_utc, subscription_id, caller,
       CASE WHEN vms = 1 THEN one_vm ELSE '' END AS vm_id,
       CONCAT(CAST(attempts AS VARCHAR), ' failed initiate attempt(s)',
              CASE WHEN vms > 1 THEN CONCAT(' on ', CAST(vms AS VARCHAR), ' VMs') ELSE '' END,
              ', e.g. ', COALESCE(code, 'no error code')) AS detail,
       CONCAT('correlation ', first_correlation) AS evidence
FROM failures
