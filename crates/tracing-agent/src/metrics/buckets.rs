//! Histogram bucket bounds, chosen per metric. They matter: Prometheus computes a quantile
//! by interpolating inside one bucket, so a drift shows only where the bounds are dense.

use super::record::{
    GEN_AI_EXECUTE_TOOL_DURATION, GEN_AI_INVOKE_AGENT_DURATION, GEN_AI_TOKEN_USAGE, RUN_LATENCY_MS,
    SPEND_PER_RUN_USD, TOKENS_PER_REQUEST, TOOL_CALLS, TOOL_DURATION_MS,
};

/// Every histogram's name and upper bucket bounds (`le`), for any exporter that takes
/// explicit buckets (`install_prometheus` uses them).
///
/// | histogram | bounds | why |
/// |---|---|---|
/// | `agent_tool_calls` | 0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64, 128 | small integers: one bucket per count up to 6, then steps of about 25%, so 4 and 12 calls per run land far apart; 128 catches a runaway loop |
/// | `agent_run_latency_ms` | 50 ms .. 120 s, dense from 1 s to 10 s | interactive runs take seconds; a p95 moving from 2 s to 8 s must cross several bounds |
/// | `agent_tool_duration_ms` | 1 ms .. 60 s | from an in-memory lookup to an upstream call that runs into a 30 s or 60 s timeout |
/// | `agent_tokens_per_request` | 64 .. 262144, powers of two | prompts grow geometrically, up to today's largest context windows |
/// | `agent_spend_per_run_usd` | 0.0001 .. 10 | a cheap run costs a fraction of a cent, a runaway one dollars |
/// | `gen_ai.execute_tool.duration` (s) | 0.01 .. 81.92, doubling | the convention's recommended bounds |
/// | `gen_ai.client.token.usage` | 1 .. 67108864, powers of four | the convention's recommended bounds |
/// | `gen_ai.invoke_agent.duration` (s) | 0.1 .. 409.6, doubling | the convention's recommended bounds |
pub const HISTOGRAM_BUCKETS: &[(&str, &[f64])] = &[
    (
        TOOL_CALLS,
        &[
            0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0, 24.0, 32.0, 48.0, 64.0,
            128.0,
        ],
    ),
    (
        RUN_LATENCY_MS,
        &[
            50.0, 100.0, 250.0, 500.0, 1_000.0, 1_500.0, 2_000.0, 3_000.0, 4_000.0, 5_000.0,
            6_000.0, 8_000.0, 10_000.0, 15_000.0, 20_000.0, 30_000.0, 60_000.0, 120_000.0,
        ],
    ),
    (
        TOOL_DURATION_MS,
        &[
            1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0,
            10_000.0, 30_000.0, 60_000.0,
        ],
    ),
    (
        TOKENS_PER_REQUEST,
        &[
            64.0, 128.0, 256.0, 512.0, 1_024.0, 2_048.0, 4_096.0, 8_192.0, 16_384.0, 32_768.0,
            65_536.0, 131_072.0, 262_144.0,
        ],
    ),
    (
        SPEND_PER_RUN_USD,
        &[
            0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            10.0,
        ],
    ),
    (
        GEN_AI_EXECUTE_TOOL_DURATION,
        &[
            0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
        ],
    ),
    (
        GEN_AI_TOKEN_USAGE,
        &[
            1.0,
            4.0,
            16.0,
            64.0,
            256.0,
            1_024.0,
            4_096.0,
            16_384.0,
            65_536.0,
            262_144.0,
            1_048_576.0,
            4_194_304.0,
            16_777_216.0,
            67_108_864.0,
        ],
    ),
    (
        GEN_AI_INVOKE_AGENT_DURATION,
        &[
            0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6,
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::HISTOGRAM_BUCKETS;

    #[test]
    fn bounds_are_non_empty_and_strictly_increasing() {
        for (name, bounds) in HISTOGRAM_BUCKETS {
            assert!(!bounds.is_empty(), "{name}");
            assert!(bounds.windows(2).all(|w| w[0] < w[1]), "{name}: {bounds:?}");
        }
    }

    #[test]
    fn the_incident_drift_crosses_bounds() {
        // Tool calls per run went from 4.3 to 11.7, p95 latency from 2.1 s to 8.4 s: the two
        // values of each pair must fall in different buckets, with a bound between them.
        let bucket = |name: &str, value: f64| {
            let (_, bounds) = HISTOGRAM_BUCKETS.iter().find(|(n, _)| *n == name).unwrap();
            bounds.iter().position(|b| value <= *b)
        };
        assert!(
            bucket("agent_tool_calls", 4.3).unwrap() + 2
                < bucket("agent_tool_calls", 11.7).unwrap()
        );
        assert!(
            bucket("agent_run_latency_ms", 2_100.0).unwrap() + 2
                < bucket("agent_run_latency_ms", 8_400.0).unwrap()
        );
    }
}
