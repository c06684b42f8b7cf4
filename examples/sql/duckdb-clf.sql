-- Per-second series of nginx/Apache combined logs for
-- `logburst merge --series`, by DuckDB over local files: one directory per
-- host (archive/web-01/access.log, ...), the host named by the directory
-- as logburst names it. For a per-minute series, truncate to 'minute'.
--
--   duckdb -csv -c "$(cat examples/sql/duckdb-clf.sql)" > series.csv
--   logburst merge --series series.csv
--
-- tests/it/sql_series.rs runs this file against fixtures/fleet.
SELECT
    regexp_extract(filename, '([^/]+)/[^/]+$', 1) AS host,
    epoch(date_trunc('second', strptime(
        substr(column3, 2) || ' ' || substr(column4, 1, 5),
        '%d/%b/%Y:%H:%M:%S %z')))::BIGINT AS time,
    count(*) AS requests,
    count(*) FILTER (WHERE column6 BETWEEN 500 AND 599) AS errors,
    count(*) FILTER (WHERE column6 = 500) AS status_500,
    count(*) FILTER (WHERE column6 = 502) AS status_502,
    count(*) FILTER (WHERE column6 = 503) AS status_503,
    count(*) FILTER (WHERE column6 = 504) AS status_504
FROM read_csv('archive/*/access.log',
    delim = ' ', quote = '"', escape = '"', header = false,
    filename = true, columns = {
        'column0': 'VARCHAR', 'column1': 'VARCHAR', 'column2': 'VARCHAR',
        'column3': 'VARCHAR', 'column4': 'VARCHAR', 'column5': 'VARCHAR',
        'column6': 'INTEGER', 'column7': 'VARCHAR', 'column8': 'VARCHAR',
        'column9': 'VARCHAR'})
GROUP BY ALL
ORDER BY host, time
