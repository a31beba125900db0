use tracing_agent::agent_tool;

#[agent_tool(skip_all, skip(client))]
fn lookup(client: u32, id: u64) -> u64 {
    let _ = client;
    id
}

fn main() {
    let _ = lookup(1, 2);
}
