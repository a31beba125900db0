use tracing_agent::agent_tool;

#[agent_tool(skip(body), redact(body))]
fn post(url: &str, body: &str) -> usize {
    url.len() + body.len()
}

fn main() {}
