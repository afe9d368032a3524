-- title: Top source addresses
-- description: The addresses requests came from, with how many requests, callers and VMs each.
SELECT COALESCE(caller_ip, source_prefix) AS address,
       COUNT(*) AS requests,
       COUNT(DISTINCT requestor) AS callers,
       COUNT(DISTINCT vm_key) AS vms,
       MIN(requested_at) AS first_seen,
       MAX(requested_at) AS last_seen
FROM requests
GROUP BY COALESCE(caller_ip, source_prefix)
ORDER BY requests DESC, address
