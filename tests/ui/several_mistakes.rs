// Each mistake is its own error, in one compile: a wrong option and a destructured
// parameter, then two wrong parameter names.
use tracing_agent::agent_tool;

#[agent_tool(nmae = "area")]
fn area((w, h): (u32, u32)) -> u32 {
    w * h
}

#[agent_tool(skip(clinet), redact(bdy))]
fn post(client: &str, body: &str) -> usize {
    client.len() + body.len()
}

fn main() {
    let _ = area((2, 3));
    let _ = post("client", "body");
}
