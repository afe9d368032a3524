-- JIT017 broad standing right
-- Per principal and subscription, the assignments (not PIM eligibility) that let it initiate
-- JIT; reported when every one of them is a broad role held at subscription, management-group
-- or root scope (`access.broad`: Owner, Contributor, or an action pattern of `*`, `*/action`,
-- `Microsoft.Security/*`, `.../jitNetworkAccessPolicies/*`). A narrow role anywhere beside it
-- means the principal was given the right on purpose.
WITH rights AS (
    SELECT caller, principal_type, subscription_id,
           COUNT(*) AS assignments,
           SUM(CASE WHEN broad AND scope_level IN ('root', 'management_group', 'subscription')
                    THEN 1 ELSE 0 END) AS broad_ones,
           MIN(role_name) AS first_role, MAX(role_name) AS last_role, MIN(scope) AS first_scope
    FROM access
    WHERE can_initiate AND held <> 'eligible'
    GROUP BY caller, principal_type, subscription_id
)
SELECT subscription_id, caller,
       CONCAT(COALESCE(principal_type, 'principal'), ' ', caller, ' can initiate JIT only through ',
              first_role,
              CASE WHEN last_role <> first_role THEN CONCAT(' and ', last_role) ELSE '' END,
              ' at ', first_scope) AS detail,
       CONCAT('role assignments of ', caller, ' reaching subscription ', subscription_id) AS evidence
FROM rights
WHERE broad_ones = assignments
