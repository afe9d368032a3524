-- JIT013 standing exposure bypassing JIT
-- One row per (NSG rule, VM it reaches) from Rust: an inbound Allow rule, not written by JIT,
-- that opens a management port (single ports, ranges, *, plural fields) from the internet
-- (*, Internet, Any, 0.0.0.0/0, ::/0, wide CIDRs) on an NSG attached to the VM's NIC or subnet.
SELECT subscription_id, vm_id, sources AS source, port,
       CONCAT('NSG ', nsg_name, ' rule ', rule_name, ' (priority ', CAST(priority AS VARCHAR), ', via ', via,
              ') allows port(s) ', ports, ' from ', sources) AS detail,
       rule_id AS evidence
FROM exposures
WHERE LOWER(access) = 'allow' AND LOWER(direction) = 'inbound'
  AND opens_management_port AND from_internet AND NOT is_jit
