-- JIT020 can grant itself the right
-- Per principal and subscription, active rights only: it can write role assignments there
-- (`can_grant`) and can initiate JIT through none of its roles (an Owner can do both and is
-- judged by JIT017 instead).
WITH rights AS (
    SELECT caller, principal_type, subscription_id,
           MAX(CASE WHEN can_grant THEN 1 ELSE 0 END) AS grants,
           MAX(CASE WHEN can_initiate THEN 1 ELSE 0 END) AS initiates,
           MIN(CASE WHEN can_grant THEN role_name END) AS grant_role,
           MIN(CASE WHEN can_grant THEN scope END) AS grant_scope
    FROM access
    WHERE held <> 'eligible'
    GROUP BY caller, principal_type, subscription_id
)
SELECT subscription_id, caller,
       CONCAT(COALESCE(principal_type, 'principal'), ' ', caller, ' can assign roles (', grant_role,
              ' at ', grant_scope, ') but cannot initiate JIT itself') AS detail,
       CONCAT('role assignments of ', caller, ' reaching subscription ', subscription_id) AS evidence
FROM rights
WHERE grants = 1 AND initiates = 0
