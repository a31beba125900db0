// A wrong option is one error: the method is kept, so calling it adds no "no method
// named `get`" error.
use tracing_agent::agent_tool;

struct Http;

impl Http {
    #[agent_tool(nmae = "http.get")]
    fn get(&self, url: &str) -> usize {
        url.len()
    }
}

fn main() {
    let _ = Http.get("https://example.invalid");
}
