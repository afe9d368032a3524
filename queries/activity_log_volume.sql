-- title: Activity Log volume per day and subscription
-- description: Records per UTC day and subscription, with the first and last record time: a missing or thin day points at an export that stopped. Counts records as read, those the prefilter passed over included, so an event found in two exports counts twice.
SELECT strftime(hour, '%Y-%m-%d') AS day,
       subscription_id,
       SUM(records) AS records,
       MIN(first_time) AS first_record,
       MAX(last_time) AS last_record
FROM activity_hours
GROUP BY strftime(hour, '%Y-%m-%d'), subscription_id
ORDER BY day, subscription_id
