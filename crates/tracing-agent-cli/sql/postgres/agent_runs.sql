-- One row per run, as `tracing-agent export --to postgres://...` writes it (it runs this
-- file when the table is missing) and as `--to runs.parquet` / `--to runs.csv` lay it out.
-- Counts are the run's stop event's when it has one, else what its events add up to.
CREATE TABLE IF NOT EXISTS agent_runs (
    run_id          text PRIMARY KEY,
    created_at      timestamptz NOT NULL,  -- the run's start (its run_start event)
    last_event_at   timestamptz NOT NULL,  -- its latest event in the exported logs
    agent           text,
    model           text,
    prompt_version  text,
    tools_version   text,
    parent_run_id   text,                  -- the run that started this one (sub-agents)
    steps           bigint NOT NULL,       -- tool calls plus LLM calls
    tool_calls      bigint NOT NULL,
    tool_errors     bigint NOT NULL,
    llm_calls       bigint NOT NULL,
    input_tokens    bigint NOT NULL,
    output_tokens   bigint NOT NULL,
    spend_usd       double precision,      -- NULL when no call had a price, never 0 for unknown
    unpriced_llm_calls bigint NOT NULL,    -- LLM calls of unknown cost: above 0, spend_usd is a lower bound
    duration_ms     bigint,                -- NULL without a stop event
    stop_reason     text,                  -- NULL without a stop event
    has_run_start   boolean NOT NULL,      -- false: the run_start was not in the logs
    has_stop        boolean NOT NULL,      -- false: still running, or its process died
    schema_version  bigint                 -- of the writer, from the run_start
);
CREATE INDEX IF NOT EXISTS agent_runs_created_at ON agent_runs (created_at);
