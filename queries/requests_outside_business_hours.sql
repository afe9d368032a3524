-- title: Requests outside business hours
-- description: Requests started outside business hours in the caller's zone (rule JIT001), with the local time; uses the configuration's zones and hours.
SELECT time_utc, caller, vm_id, port, source, detail, suppressed
FROM findings
WHERE rule_id = 'JIT001'
ORDER BY time_utc
