-- title: Longest open-port windows
-- description: The twenty requests that kept a management port open longest.
SELECT requested_at, requestor, vm_name, port, source_prefix, CAST(ROUND(duration_seconds / 60.0) AS INTEGER) AS minutes, justification, request_id
FROM requests
WHERE duration_seconds IS NOT NULL
ORDER BY duration_seconds DESC, requested_at
LIMIT 20
