use tracing_agent::agent_tool;

#[agent_tool(skip(clinet))]
fn lookup(client: &str, id: u64) -> u64 {
    let _ = client;
    id
}

fn main() {}
