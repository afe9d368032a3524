-- title: VMs without JIT
-- description: VMs in the inventory that no JIT policy covers (resource ids compared in lower case), with whether they have a public IP.
SELECT v.subscription_id, v.resource_group, v.vm_name, v.os_type, v.has_public_ip, v.private_ips, v.vm_id
FROM vms v
LEFT JOIN (SELECT DISTINCT vm_key FROM policies) p ON v.vm_key = p.vm_key
WHERE p.vm_key IS NULL
ORDER BY v.subscription_id, v.vm_name
