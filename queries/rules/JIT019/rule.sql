-- JIT019 right granted then used
-- A role assignment written in the window (`role_grants`, one row per name of the principal)
-- whose role can initiate JIT, and a JIT request of that principal on the same subscription
-- after it and within 24 hours (`granted_until`). One finding per assignment, at its first
-- such request.
WITH asked AS (
    SELECT LOWER(requestor) AS who, LOWER(subscription_id) AS subscription, requested_at,
           time_utc, vm_id
    FROM requests
),
used AS (
    SELECT g.assignment, g.subscription_id, g.principal_id, g.granted_by, g.role_name,
           g.granted_time_utc, g.scope, MIN(a.time_utc) AS first_request
    FROM role_grants g
    JOIN asked a ON a.who = g.name AND a.subscription = g.subscription_id
    WHERE g.can_initiate AND a.requested_at > g.granted_at AND a.requested_at <= g.granted_until
    GROUP BY g.assignment, g.subscription_id, g.principal_id, g.granted_by, g.role_name,
             g.granted_time_utc, g.scope
)
SELECT u.first_request AS time_utc, u.subscription_id, MIN(a.vm_id) AS vm_id,
       MIN(a.who) AS caller,
       CONCAT(u.role_name, ' granted at ', u.granted_time_utc, ' by ', COALESCE(u.granted_by, 'unknown'),
              ' on ', COALESCE(u.scope, u.subscription_id), '; first request ', u.first_request) AS detail,
       u.assignment AS evidence
FROM used u
JOIN asked a ON a.subscription = u.subscription_id AND a.time_utc = u.first_request
JOIN role_grants g ON g.assignment = u.assignment AND g.name = a.who
GROUP BY u.first_request, u.subscription_id, u.role_name, u.granted_time_utc, u.granted_by,
         u.scope, u.assignment
