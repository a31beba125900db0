use tracing_agent::agent_tool;

#[agent_tool(name = "a", name = "b")]
fn tool() {}

fn main() {}
