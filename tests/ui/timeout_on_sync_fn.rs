use tracing_agent::agent_tool;

#[agent_tool(timeout = "30s")]
fn lookup(id: u64) -> Result<u64, std::io::Error> {
    Ok(id)
}

fn main() {
    let _ = lookup(1);
}
