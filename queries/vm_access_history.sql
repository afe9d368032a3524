-- title: Access history of one VM
-- description: Every JIT request on a VM, in time order, with who, from where, why and for how long.
-- param: vm: the VM name (case-insensitive), e.g. web-01
SELECT requested_at, end_time, requestor, caller_ip, source_prefix, port, CAST(ROUND(duration_seconds / 60.0) AS INTEGER) AS minutes,
       justification, status, evidence, request_id
FROM requests
WHERE LOWER(vm_name) = LOWER(:vm)
ORDER BY requested_at
