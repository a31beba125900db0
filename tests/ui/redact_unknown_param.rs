use tracing_agent::agent_tool;

#[agent_tool(redact(bdy))]
fn post(url: &str, body: &str) -> usize {
    url.len() + body.len()
}

fn main() {}
