#!/usr/bin/env python3
"""`tracing-agent stats` and `runs --json` against DuckDB on the same 1 GiB log.

    cargo build --release -p tracing-agent-cli
    cargo run --release --example incident -- --out /tmp/incident
    pip install duckdb                    # for this benchmark only
    python3 benches/analytics_vs_duckdb.py --logs /tmp/incident [--rounds 3]

Builds a 1 GiB log under /tmp from the example's two logs (copies with new run ids,
each copy ten minutes later), then, round after round, times each tool on it back to
back (wall time, CPU time and peak memory of the child, via wait4), and prints the
medians and the ratios, with the load average before and after: only ratios measured
in one run mean anything on a shared machine. The log is deleted at the end, also on
failure. DuckDB computes the same per-run aggregation (`runs`) and the same per-day
statistics from it (`stats`) with two threads, the output written out like ours.
"""

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

DUCK = r"""
import duckdb, sys
path, which, out = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute("SET threads TO 2")
src = f'''read_json('{path}', format='newline_delimited', ignore_errors=true,
  columns={{run_id:'VARCHAR', kind:'VARCHAR', ts_ms:'BIGINT', tool:'VARCHAR', duration_ms:'BIGINT',
           status:'VARCHAR', error:'VARCHAR', stop_reason:'VARCHAR',
           usage:'STRUCT(tool_calls BIGINT, spend_usd DOUBLE, input_tokens BIGINT, output_tokens BIGINT)',
           meta:'STRUCT(agent VARCHAR, model VARCHAR, prompt_version VARCHAR, tools_version VARCHAR)'}})'''
per_run = f'''
SELECT run_id,
  min(ts_ms) FILTER (kind='run_start') AS started_ms,
  any_value(meta.agent) FILTER (kind='run_start') AS agent,
  any_value(meta.model) FILTER (kind='run_start') AS model,
  any_value(meta.prompt_version) FILTER (kind='run_start') AS prompt_version,
  count(*) FILTER (kind='tool_result') AS tool_calls,
  count(*) FILTER (kind='tool_result' AND status='error') AS tool_errors,
  count(*) FILTER (kind='llm_result') AS llm_calls,
  sum(usage.input_tokens) FILTER (kind='llm_result') AS input_tokens,
  sum(usage.output_tokens) FILTER (kind='llm_result') AS output_tokens,
  sum(usage.spend_usd) FILTER (kind='llm_result') AS spend_usd,
  any_value(duration_ms) FILTER (kind='stop') AS duration_ms,
  any_value(stop_reason) FILTER (kind='stop') AS stop_reason
FROM {src} WHERE run_id IS NOT NULL GROUP BY run_id'''
if which == 'runs':
    con.execute(f"COPY ({per_run} ORDER BY started_ms DESC) TO '{out}' (FORMAT json)")
else:
    con.execute(f'''COPY (
    SELECT date_trunc('day', make_timestamp(started_ms*1000)) AS day, count(*) AS runs,
      avg(tool_calls), quantile_disc(tool_calls, [0.5, 0.95]),
      quantile_disc(duration_ms, [0.5, 0.95, 0.99]), avg(spend_usd), quantile_disc(spend_usd, 0.95),
      avg((spend_usd IS NULL)::int), avg((stop_reason='completed')::int)
    FROM ({per_run}) GROUP BY ALL ORDER BY 1) TO '{out}' (FORMAT json)''')
"""

TS = re.compile(r'"ts_ms":(\d+)')


def build_log(sources, path, size):
    lines = [line for source in sources for line in open(source)]
    written, copy = 0, 0
    with open(path, "w") as out:
        while written < size:
            shift = copy * 600_000
            chunk = []
            for line in lines:
                # '{"run_id":"' + 8 hex digits: the copy's number replaces the run id's first 8.
                if line.startswith('{"run_id":"'):
                    line = '{"run_id":"%08x' % copy + line[19:]
                m = TS.search(line)
                if m:
                    line = line[: m.start(1)] + str(int(m.group(1)) + shift) + line[m.end(1) :]
                chunk.append(line)
            text = "".join(chunk)
            out.write(text)
            written += len(text)
            copy += 1
    return written


def timed(command):
    start = time.monotonic()
    with open(os.devnull, "w") as null:
        process = subprocess.Popen(command, stdout=null, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    if status != 0:
        sys.exit(f"{command[0]} {command[1]} failed: {status}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--logs", required=True, help="the incident example's --out DIR")
    parser.add_argument("--bin", default="target/release/tracing-agent")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=1 << 30)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="analytics-bench-", dir="/tmp")
    log = os.path.join(work, "big.jsonl")
    duck = os.path.join(work, "duck.py")
    try:
        with open(duck, "w") as f:
            f.write(DUCK)
        size = build_log(
            [os.path.join(args.logs, "baseline.jsonl"), os.path.join(args.logs, "incident.jsonl")],
            log,
            args.size,
        )
        print(f"log: {size / (1 << 20):.0f} MiB, {os.cpu_count()} CPUs, load before {os.getloadavg()}")
        cases = {
            "stats": ([args.bin, "stats", "--json", log], [sys.executable, duck, log, "stats", os.path.join(work, "d.json")]),
            "runs --json": ([args.bin, "runs", "--json", log], [sys.executable, duck, log, "runs", os.path.join(work, "d.json")]),
        }
        results = {name: ([], []) for name in cases}
        for _ in range(args.rounds):
            for name, (ours, theirs) in cases.items():
                results[name][0].append(timed(ours))
                results[name][1].append(timed(theirs))
        print(f"load after {os.getloadavg()}")
        for name, (ours, theirs) in results.items():
            med = lambda rows, i: statistics.median(r[i] for r in rows)
            print(
                f"{name}: tracing-agent {med(ours, 0):.2f} s wall, {med(ours, 1):.2f} s CPU, {med(ours, 2)} MiB | "
                f"duckdb {med(theirs, 0):.2f} s wall, {med(theirs, 1):.2f} s CPU, {med(theirs, 2)} MiB | "
                f"wall ratio {med(ours, 0) / med(theirs, 0):.2f}x, CPU ratio {med(ours, 1) / med(theirs, 1):.2f}x"
            )
    finally:
        for name in os.listdir(work):
            os.remove(os.path.join(work, name))
        os.rmdir(work)


if __name__ == "__main__":
    main()
