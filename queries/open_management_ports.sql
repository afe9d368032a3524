-- title: NSG rules allowing management ports
-- description: Inbound Allow rules that name port 22, 3389, 5985 or 5986 (or all ports), JIT's own rules marked.
SELECT nsg_name, rule_name, priority, source_prefixes, destination_port_ranges, attachment, jit_rule, subscription_id
FROM nsg_rules
WHERE LOWER(direction) = 'inbound' AND LOWER(access) = 'allow' AND NOT is_default
  AND (destination_port_ranges = '*' OR destination_port_ranges LIKE '%22%' OR destination_port_ranges LIKE '%3389%'
       OR destination_port_ranges LIKE '%5985%' OR destination_port_ranges LIKE '%5986%'
       OR destination_port_ranges LIKE '%-%')
ORDER BY subscription_id, nsg_name, priority
