-- JIT021 credential pasted into a justification or a tag
-- `justification_credential` and `tags_credential` (from Rust) name the kinds of credential a
-- text held; the text itself is masked by then (unless --no-redact).
SELECT request_id, time_utc, subscription_id, vm_id, requestor AS caller, source_prefix AS source, port,
       CONCAT('a credential (', justification_credential, ') in the justification of the request') AS detail,
       CONCAT('request ', request_id) AS evidence
FROM requests
WHERE justification_credential IS NOT NULL
UNION ALL
SELECT NULL AS request_id, NULL AS time_utc, subscription_id, vm_id, NULL AS caller, NULL AS source, NULL AS port,
       CONCAT('a credential (', tags_credential, ') in the tags of VM ', vm_name) AS detail,
       CONCAT('vm ', vm_id) AS evidence
FROM vms
WHERE tags_credential IS NOT NULL
