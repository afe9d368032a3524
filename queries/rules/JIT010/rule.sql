-- JIT010 request burst
-- More than limits.burst_requests_per_day requests by one caller in one day of their zone,
-- counted across subscriptions, reported once per subscription the day's requests touched
-- (so a report split by subscription owner, or a SIEM routing by subscription, keeps it).
WITH days AS (
    SELECT requestor, local_day, zone, COUNT(*) AS total
    FROM requests
    WHERE requestor IS NOT NULL
    GROUP BY requestor, local_day, zone
),
here AS (
    SELECT requestor, local_day, zone, subscription_id, COUNT(*) AS requests,
           MIN(time_utc) AS first_utc
    FROM requests
    WHERE requestor IS NOT NULL
    GROUP BY requestor, local_day, zone, subscription_id
)
SELECT here.first_utc AS time_utc, here.subscription_id, here.requestor AS caller,
       CONCAT(CAST(days.total AS VARCHAR), ' requests on ', here.local_day, ' (', here.zone, ')',
              CASE WHEN here.requests < days.total
                   THEN CONCAT(', ', CAST(here.requests AS VARCHAR), ' of them in this subscription')
                   ELSE '' END,
              '; limit ', CAST(:burst_requests_per_day AS VARCHAR)) AS detail,
       CONCAT('requests by ', here.requestor, ' on ', here.local_day) AS evidence
FROM here
JOIN days ON here.requestor = days.requestor AND here.local_day = days.local_day
         AND here.zone = days.zone
WHERE days.total > :burst_requests_per_day
