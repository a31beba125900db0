use tracing_agent::agent_tool;

#[agent_tool(nmae = "http.get")]
fn http_get(url: &str) -> usize {
    url.len()
}

fn main() {}
