-- title: Policies with wide-open sources
-- description: JIT policy ports whose allowed source is any address (*, Any, Internet, 0.0.0.0/0, ::/0) or not set.
SELECT subscription_id, policy_id, vm_name, port, protocol, allowed_source, max_duration
FROM policies
WHERE allowed_source IS NULL
   OR LOWER(allowed_source) IN ('*', 'any', 'internet', '0.0.0.0/0', '::/0')
ORDER BY subscription_id, vm_name, port
