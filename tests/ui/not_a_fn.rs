use tracing_agent::agent_tool;

#[agent_tool]
struct Tools;

fn main() {}
