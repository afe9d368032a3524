-- JIT004 wide-open policy
-- A policy port whose allowed source (either prefix field) is wide, as JIT003 judges it; for a
-- VM behind Azure Firewall (`firewall_ip`) the port opens on the firewall's public address.
SELECT subscription_id, vm_id, allowed_source AS source, port,
       CONCAT('policy ', policy_name, ' lets requests open port ', CAST(port AS VARCHAR), ' to ', allowed_source,
              CASE WHEN firewall_ip IS NULL THEN ''
                   ELSE CONCAT(' through Azure Firewall ', firewall_ip) END) AS detail,
       policy_id AS evidence
FROM policies
WHERE source_wide
