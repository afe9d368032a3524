-- title: Requests per subscription
-- description: Requests, callers and VMs per subscription, named where the inventory names it.
SELECT r.subscription_id,
       COALESCE(MIN(s.display_name), '') AS subscription,
       COUNT(*) AS requests,
       COUNT(DISTINCT r.requestor) AS callers,
       COUNT(DISTINCT r.vm_key) AS vms
FROM requests r
LEFT JOIN subscriptions s ON r.subscription_id = s.subscription_id
GROUP BY r.subscription_id
ORDER BY requests DESC, r.subscription_id
