-- One row per event, as `tracing-agent export --table events` writes it (it runs this
-- file when the table is missing). Columns that do not apply to an event's kind are NULL.
CREATE TABLE IF NOT EXISTS agent_events (
    event_id        text PRIMARY KEY,      -- sha24 of the event's canonical JSON (its known keys)
    run_id          text,                  -- NULL: a tool call outside any run
    kind            text NOT NULL,         -- run_start, tool_result, llm_result, stop, guard, budget_warning
    ts              timestamptz NOT NULL,  -- when the event was written
    step_id         bigint,
    parent_step_id  bigint,
    tool            text,
    tool_version    text,
    attempt         bigint,                -- of a retried tool call, from 1
    args_sha        text,
    result_sha      text,
    hash_error      text,
    args            json,                  -- only with store_args
    duration_ms     bigint,                -- of the call; of the run on a stop
    status          text,                  -- ok, error
    error           text,                  -- error class of a failed call
    model           text,                  -- of an LLM call; of the run on a run_start
    input_tokens    bigint,
    output_tokens   bigint,
    spend_usd       double precision,
    unpriced_llm_calls bigint,             -- stop events: LLM calls of unknown cost
    stop_reason     text,
    steps           bigint,                -- the run's counts, on a stop
    tool_calls      bigint,
    tool_errors     bigint,
    llm_calls       bigint,
    agent           text,                  -- the run's versions, on a run_start
    prompt_version  text,
    tools_version   text,
    parent_run_id   text,
    schema_version  bigint,
    guard           text,                  -- the limit, on guard and budget_warning
    limit_value     double precision,
    used_value      double precision,
    detail          text
);
CREATE INDEX IF NOT EXISTS agent_events_run_id ON agent_events (run_id);
CREATE INDEX IF NOT EXISTS agent_events_ts ON agent_events (ts);
