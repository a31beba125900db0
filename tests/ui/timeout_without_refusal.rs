use tracing_agent::{agent_tool, ErrorClass};

#[derive(Debug, ErrorClass)]
enum LookupError {
    NotFound,
}

#[agent_tool(timeout = "30s")]
async fn lookup(id: u64) -> Result<u64, LookupError> {
    if id == 0 {
        return Err(LookupError::NotFound);
    }
    Ok(id)
}

fn main() {
    let _ = lookup(1);
}
