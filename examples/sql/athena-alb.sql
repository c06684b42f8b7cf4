-- Per-second series of AWS Application Load Balancer access logs for
-- `logburst merge --series`, in Athena over the table AWS documents
-- ("Querying Application Load Balancer logs": alb_access_logs, with
-- `time` as an ISO 8601 string and `elb_status_code` an integer). One
-- series per load balancer; the time range prunes the partitions.
-- Written to that documented schema; not run by the tests (no Athena
-- here): the DuckDB query beside it is.
--
-- Download the result as CSV, then: logburst merge --series result.csv
SELECT
    elb AS host,
    -- to_unixtime gives a double: cast, or the CSV says 1.675321213E9.
    CAST(to_unixtime(date_trunc('second', from_iso8601_timestamp(time))) AS BIGINT) AS time,
    count(*) AS requests,
    count_if(elb_status_code BETWEEN 500 AND 599) AS errors,
    count_if(elb_status_code = 500) AS status_500,
    count_if(elb_status_code = 502) AS status_502,
    count_if(elb_status_code = 503) AS status_503,
    count_if(elb_status_code = 504) AS status_504
FROM alb_access_logs
WHERE time >= '2023-02-02T06:00:00' AND time < '2023-02-02T08:00:00'
GROUP BY 1, 2
ORDER BY 1, 2
