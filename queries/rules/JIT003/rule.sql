-- JIT003 wide-open request
-- The granted source is *, Any, Internet, 0.0.0.0/0, ::/0 or a prefix shorter than
-- network.min_prefix_length (`source_wide`, computed in Rust). A VM behind Azure Firewall
-- (`firewall_ip`, from its policy entry) is judged alike: its access opens as a DNAT rule on
-- the firewall's public address, reachable from the internet whatever the NSG says.
SELECT request_id, time_utc, subscription_id, vm_id, requestor AS caller, source_prefix AS source, port,
       CONCAT('port opened to ', source_prefix,
              CASE WHEN firewall_ip IS NULL THEN ''
                   ELSE CONCAT(' through Azure Firewall ', firewall_ip, ':',
                               CAST(COALESCE(mapped_port, port) AS VARCHAR)) END) AS detail,
       CONCAT('request ', request_id) AS evidence
FROM requests
WHERE source_wide
