-- JIT011 failed or denied request
-- Initiate attempts that failed, grouped per caller and subscription, with the failure codes
-- seen (one finding per subscription, so routing by subscription keeps every one).
WITH failures AS (
    SELECT caller, subscription_id, MIN(time_utc) AS first_utc,
           COUNT(DISTINCT correlation_id) AS attempts,
           MIN(failure_code) AS code, MIN(correlation_id) AS first_correlation
    FROM jit_events
    WHERE operation_id = 'microsoft.security/locations/jitnetworkaccesspolicies/initiate/action'
      AND status = 'Failed'
    GROUP BY caller, subscription_id
)
SELECT first_utc AS time_utc, subscription_id, caller,
       CONCAT(CAST(attempts AS VARCHAR), ' failed initiate attempt(s), e.g. ', COALESCE(code, 'no error code')) AS detail,
       CONCAT('correlation ', first_correlation) AS evidence
FROM failures
