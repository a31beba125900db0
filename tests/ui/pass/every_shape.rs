// Every supported shape of tool compiles: sync, async, methods, generics, impl Trait,
// `?` with error conversion, early return, mut and raw-identifier parameters, tools whose
// error can carry a refusal (concrete, generic, `Result` of `impl Trait`), `writes` and
// `timeout`.
use tracing_agent::{agent_tool, ErrorClass, Refused};

#[derive(Debug, ErrorClass)]
enum Guarded {
    Refused(Refused),
}

impl From<Refused> for Guarded {
    fn from(refused: Refused) -> Self {
        Guarded::Refused(refused)
    }
}

#[agent_tool(writes)]
fn refusable(n: u32) -> Result<u32, Guarded> {
    Ok(n)
}

#[agent_tool(timeout = "2s", writes)]
async fn timed(n: u32) -> Result<u32, Guarded> {
    Ok(n)
}

#[agent_tool]
fn generic_error<E: From<Refused>>(n: u32) -> Result<u32, E> {
    Ok(n)
}

#[agent_tool(skip_result)]
fn refusable_opaque(n: u8) -> Result<impl Iterator<Item = u8>, Guarded> {
    Ok(0..n)
}

#[derive(Debug, ErrorClass)]
enum ToolError {
    Parse,
}

impl From<std::num::ParseIntError> for ToolError {
    fn from(_: std::num::ParseIntError) -> Self {
        ToolError::Parse
    }
}

#[agent_tool]
fn parse_sum(a: &str, b: &str) -> Result<u64, ToolError> {
    let a: u64 = a.parse()?;
    if a == 0 {
        return Ok(0);
    }
    Ok(a + b.parse::<u64>()?)
}

#[agent_tool(name = "async.parse")]
async fn async_parse(text: String) -> Result<u64, ToolError> {
    Ok(text.parse::<u64>()?)
}

#[agent_tool]
fn with_mut(mut count: u32, r#type: &str) -> u32 {
    count += r#type.len() as u32;
    count
}

#[agent_tool]
fn generic<T: serde::Serialize + Default>(_seed: T) -> T {
    T::default()
}

#[agent_tool(skip_result)]
fn opaque(n: u8) -> impl Iterator<Item = u8> {
    0..n
}

#[agent_tool]
fn ignored(_: u8, kept: u8) -> u8 {
    kept
}

struct Service {
    name: String,
    items: Vec<u32>,
}

impl Service {
    #[agent_tool(skip(self))]
    fn name_len(&self) -> usize {
        self.name.len()
    }

    #[agent_tool]
    async fn rename(&mut self, name: String) -> String {
        std::mem::replace(&mut self.name, name)
    }

    #[agent_tool(skip_result)]
    fn items_mut(&mut self) -> &mut Vec<u32> {
        &mut self.items
    }

    #[agent_tool]
    fn first_item(&self) -> Option<&u32> {
        self.items.first()
    }

    #[agent_tool]
    fn consume(self, suffix: &str) -> String {
        self.name + suffix
    }
}

fn main() {
    assert!(matches!(refusable(1), Ok(1)));
    let _ = timed(2);
    assert!(matches!(generic_error::<Guarded>(3), Ok(3)));
    assert_eq!(refusable_opaque(2).map(Iterator::count).ok(), Some(2));
    if let Err(Guarded::Refused(refused)) = refusable(0) {
        let _ = refused.reason();
    }
    assert_eq!(parse_sum("2", "3").unwrap(), 5);
    assert!(matches!(parse_sum("x", "3"), Err(ToolError::Parse)));
    assert_eq!(with_mut(1, "ab"), 3);
    assert_eq!(generic(5u8), 0);
    assert_eq!(opaque(3).count(), 3);
    assert_eq!(ignored(1, 2), 2);
    let mut service = Service {
        name: "a".into(),
        items: vec![],
    };
    assert_eq!(service.name_len(), 1);
    service.items_mut().push(7);
    assert_eq!(service.first_item(), Some(&7));
    let _ = async_parse("1".into());
    let _ = service.rename("bc".into());
    assert_eq!(service.consume("!"), "a!");
}
