-- The hours of the last 7 days whose runs averaged more than twice the tool calls of
-- the 7 days before: the alert of the background article, verbatim. Runs on agent_runs
-- as exported (tests/export_postgres.rs runs it on the incident example's data).
SELECT
date_trunc('hour', created_at) AS hour,
avg(tool_calls) AS avg_tool_calls
FROM agent_runs
WHERE created_at > now() - interval '7 days'
GROUP BY 1
HAVING avg(tool_calls) > 2 * (
SELECT avg(tool_calls)
FROM agent_runs
WHERE created_at BETWEEN now() - interval '14 days' AND now() - interval '7 days'
);
