-- title: Justification review
-- description: Every justification given, how often, by whom and when it was first and last used; empty ones first.
SELECT COALESCE(justification, '(none)') AS justification,
       COUNT(*) AS requests,
       COUNT(DISTINCT requestor) AS callers,
       MIN(requestor) AS a_caller,
       MIN(requested_at) AS first_used,
       MAX(requested_at) AS last_used
FROM requests
GROUP BY justification
ORDER BY CASE WHEN justification IS NULL THEN 0 ELSE 1 END, requests DESC, justification
