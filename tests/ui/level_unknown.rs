use tracing_agent::agent_tool;

#[agent_tool(level = "verbose")]
fn http_get(url: &str) -> usize {
    url.len()
}

#[agent_tool(target = "")]
fn lookup(id: u64) -> u64 {
    id
}

fn main() {
    // Both still exist: one mistake gives one error, not one per use.
    let _ = http_get("https://example.com") + lookup(1) as usize;
}
