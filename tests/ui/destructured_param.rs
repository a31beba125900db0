use tracing_agent::agent_tool;

#[agent_tool]
fn area((w, h): (u32, u32)) -> u32 {
    w * h
}

fn main() {}
