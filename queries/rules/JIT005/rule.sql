-- JIT005 VM without JIT
-- A VM in the inventory that no policy covers (ids compared in lower case). High when the VM
-- has a public IP or an NSG rule that opens a management port to it (`exposure`, from Rust).
SELECT subscription_id, vm_id,
       CASE WHEN exposure IS NULL THEN 'medium' ELSE 'high' END AS severity,
       CONCAT('no JIT policy covers ', vm_name, CASE WHEN exposure IS NULL THEN '' ELSE CONCAT('; ', exposure) END) AS detail,
       vm_id AS evidence
FROM vms
WHERE NOT has_jit
