-- title: Findings by rule and severity
-- description: How many findings each rule raised, and how many of them are suppressed.
SELECT rule_id, severity, title,
       COUNT(*) AS findings,
       SUM(CASE WHEN suppressed THEN 1 ELSE 0 END) AS suppressed
FROM findings
GROUP BY rule_id, severity, title
ORDER BY rule_id, severity
