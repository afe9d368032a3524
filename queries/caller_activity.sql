-- title: Everything one caller did
-- description: Every Activity Log record of one caller (UPN, object id or app id, case-insensitive), in time order.
-- param: caller: the caller's UPN, object id or app id
SELECT time, operation_id, operation_name, status, caller_ip, resource_id, correlation_id
FROM events
WHERE LOWER(caller) = LOWER(:caller) OR LOWER(object_id) = LOWER(:caller) OR LOWER(app_id) = LOWER(:caller)
ORDER BY time
