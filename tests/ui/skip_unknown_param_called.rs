// A misspelt `skip(..)` name is one error: the method is kept, so the trait impl is
// still complete and its caller still compiles.
use tracing_agent::agent_tool;

trait Lookup {
    fn lookup(&self, client: &str, id: u64) -> u64;
}

struct Customers;

impl Lookup for Customers {
    #[agent_tool(skip(clinet))]
    fn lookup(&self, client: &str, id: u64) -> u64 {
        let _ = client;
        id
    }
}

fn main() {
    let _ = Customers.lookup("client", 7);
}
