-- JIT018 unused right
-- Per principal and subscription with an active (not only eligible) right to initiate, whether
-- the principal made any JIT request there in the window (`access.requested`, matched by
-- object id, UPN, or a caller the Activity Log pairs with the object id).
WITH rights AS (
    SELECT caller, principal_type, subscription_id,
           MIN(role_name) AS first_role,
           MAX(CASE WHEN requested THEN 1 ELSE 0 END) AS used
    FROM access
    WHERE can_initiate AND held <> 'eligible'
    GROUP BY caller, principal_type, subscription_id
)
SELECT subscription_id, caller,
       CONCAT(COALESCE(principal_type, 'principal'), ' ', caller, ' can initiate JIT (', first_role,
              ') and made no JIT request on the subscription in the window') AS detail,
       CONCAT('role assignments of ', caller, ' reaching subscription ', subscription_id) AS evidence
FROM rights
WHERE used = 0
