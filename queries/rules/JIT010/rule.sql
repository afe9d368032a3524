-- JIT010 request burst
-- More than limits.burst_requests_per_day requests by one caller in one day of their zone.
WITH days AS (
    SELECT requestor, local_day, zone, COUNT(*) AS requests, MIN(time_utc) AS first_utc
    FROM requests
    WHERE requestor IS NOT NULL
    GROUP BY requestor, local_day, zone
)
SELECT first_utc AS time_utc, requestor AS caller,
       CONCAT(CAST(requests AS VARCHAR), ' requests on ', local_day, ' (', zone, '); limit ',
              CAST(:burst_requests_per_day AS VARCHAR)) AS detail,
       CONCAT('requests by ', requestor, ' on ', local_day) AS evidence
FROM days
WHERE requests > :burst_requests_per_day
