-- title: Daily request counts
-- description: Requests per UTC day, with callers and VMs that day.
SELECT strftime(requested_at, '%Y-%m-%d') AS day,
       COUNT(*) AS requests,
       COUNT(DISTINCT requestor) AS callers,
       COUNT(DISTINCT vm_key) AS vms
FROM requests
WHERE requested_at IS NOT NULL
GROUP BY strftime(requested_at, '%Y-%m-%d')
ORDER BY day
