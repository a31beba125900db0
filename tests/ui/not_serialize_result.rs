use tracing_agent::agent_tool;

struct Page;

#[agent_tool]
fn fetch(url: &str) -> Result<Page, std::io::Error> {
    let _ = url;
    Ok(Page)
}

fn main() {}
