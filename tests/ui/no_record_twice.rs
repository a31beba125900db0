use tracing_agent::agent_tool;

#[agent_tool(no_record, no_record)]
fn read_secret(name: &str) -> String {
    name.to_owned()
}

fn main() {
    let _ = read_secret("api-key");
}
