"""DuckDB answering the benchmark's three questions over the same JSON Lines (issue 7).

Usage: python3 duckdb_side.py DIR QUESTION   with QUESTION report | caller | query
Prints the number of result rows; the caller times the whole process.
"""
import sys

import duckdb

UPN = '$.claims."http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"'
SOURCE = """read_json('{dir}/insights-activity-logs/**/*.json', format='newline_delimited',
    columns={{time: 'TIMESTAMP', operationName: 'VARCHAR', identity: 'JSON', callerIpAddress: 'VARCHAR',
              resultType: 'VARCHAR', correlationId: 'VARCHAR', resourceId: 'VARCHAR'}})"""

QUESTIONS = {
    # What `report` must at least do: keep the JIT-related operations, count per caller and day.
    "report": """SELECT json_extract_string(identity, '{upn}') AS caller, CAST(time AS DATE) AS day, COUNT(*) AS n
                 FROM {source}
                 WHERE lower(operationName) LIKE 'microsoft.security/locations/jitnetworkaccesspolicies/%'
                    OR lower(operationName) LIKE 'microsoft.network/networksecuritygroups/%'
                 GROUP BY ALL""",
    # What `caller` must at least do: every record of one caller, in time order.
    "caller": """SELECT time, operationName, resultType, callerIpAddress, resourceId, correlationId
                 FROM {source}
                 WHERE lower(json_extract_string(identity, '{upn}')) = 'bob@contoso.com'
                 ORDER BY time""",
    # A query no prefilter helps: every event counted by operation.
    "query": """SELECT lower(operationName) AS operation, COUNT(*) AS n FROM {source} GROUP BY ALL""",
}

if __name__ == "__main__":
    directory, question = sys.argv[1], sys.argv[2]
    sql = QUESTIONS[question].format(upn=UPN, source=SOURCE.format(dir=directory))
    print(len(duckdb.sql(sql).fetchall()))
