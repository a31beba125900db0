-- ClickHouse: agent_events, to load the Parquet of `tracing-agent export --table events`:
--   clickhouse-client --query "INSERT INTO agent_events FORMAT Parquet" < events.parquet
-- An event never changes; ReplacingMergeTree drops a row loaded twice once merged.
CREATE TABLE IF NOT EXISTS agent_events
(
    event_id        String,
    run_id          Nullable(String),
    kind            LowCardinality(String),
    ts              DateTime64(3, 'UTC'),
    step_id         Nullable(Int64),
    parent_step_id  Nullable(Int64),
    tool            Nullable(String),
    tool_version    Nullable(String),
    attempt         Nullable(Int64),
    args_sha        Nullable(String),
    result_sha      Nullable(String),
    hash_error      Nullable(String),
    args            Nullable(String),
    duration_ms     Nullable(Int64),
    status          Nullable(String),
    error           Nullable(String),
    model           Nullable(String),
    input_tokens    Nullable(Int64),
    output_tokens   Nullable(Int64),
    spend_usd       Nullable(Float64),
    unpriced_llm_calls Nullable(Int64),
    stop_reason     Nullable(String),
    steps           Nullable(Int64),
    tool_calls      Nullable(Int64),
    tool_errors     Nullable(Int64),
    llm_calls       Nullable(Int64),
    agent           Nullable(String),
    prompt_version  Nullable(String),
    tools_version   Nullable(String),
    parent_run_id   Nullable(String),
    schema_version  Nullable(Int64),
    guard           Nullable(String),
    limit_value     Nullable(Float64),
    used_value      Nullable(Float64),
    detail          Nullable(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, event_id);
