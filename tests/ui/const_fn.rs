use tracing_agent::agent_tool;

#[agent_tool]
const fn tool() -> u32 {
    1
}

fn main() {}
