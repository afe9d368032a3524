-- title: Requests by caller and week
-- description: How many JIT requests each caller made per ISO week, with distinct VMs and sources.
SELECT requestor AS caller,
       strftime(requested_at, '%G-W%V') AS week,
       COUNT(*) AS requests,
       COUNT(DISTINCT vm_key) AS vms,
       COUNT(DISTINCT source_prefix) AS sources
FROM requests
WHERE requested_at IS NOT NULL
GROUP BY requestor, strftime(requested_at, '%G-W%V')
ORDER BY week, requests DESC, caller
