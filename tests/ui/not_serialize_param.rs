use tracing_agent::agent_tool;

struct Client;

#[agent_tool]
fn lookup(client: &Client, customer_id: u64) -> u64 {
    let _ = client;
    customer_id
}

fn main() {}
