-- ClickHouse: agent_runs, to load the Parquet that `tracing-agent export --to runs.parquet`
-- writes:  clickhouse-client --query "INSERT INTO agent_runs FORMAT Parquet" < runs.parquet
-- ReplacingMergeTree keeps the newest row per run_id, so loading a file again
-- replaces rows once merged (query with FINAL for exact counts before that).
CREATE TABLE IF NOT EXISTS agent_runs
(
    run_id          String,
    created_at      DateTime64(3, 'UTC'),
    last_event_at   DateTime64(3, 'UTC'),
    agent           Nullable(String),
    model           Nullable(String),
    prompt_version  Nullable(String),
    tools_version   Nullable(String),
    parent_run_id   Nullable(String),
    steps           Int64,
    tool_calls      Int64,
    tool_errors     Int64,
    llm_calls       Int64,
    input_tokens    Int64,
    output_tokens   Int64,
    spend_usd       Nullable(Float64),
    unpriced_llm_calls Int64,
    duration_ms     Nullable(Int64),
    stop_reason     Nullable(String),
    has_run_start   Bool,
    has_stop        Bool,
    schema_version  Nullable(Int64)
)
ENGINE = ReplacingMergeTree(last_event_at)
PARTITION BY toYYYYMM(created_at)
ORDER BY run_id;
