//! The id a model gave a tool call, carried to the call it names.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::scope::with_tool_call_id;

/// The id the model assigned a tool call (OpenAI's `tool_calls[].id`, Anthropic's
/// `tool_use.id`): the next `#[agent_tool]` call begun inside [`in_scope`] or
/// [`scope`] writes it as `tool_call_id` in its event and `gen_ai.tool.call.id` on its
/// span, so the event joins to the provider's logs. Tools called from inside that tool
/// do not get it.
///
/// ```
/// use tracing_agent::{agent_tool, ToolCallId};
///
/// #[agent_tool]
/// fn send_email(to: &str) -> u32 { let _ = to; 250 }
///
/// // For each tool call in the model's answer:
/// let status = ToolCallId::new("call_8Hq2").in_scope(|| send_email("ada@example.com"));
/// # assert_eq!(status, 250);
/// // Async tools: ToolCallId::new(id).scope(lookup(..)).await
/// ```
///
/// [`in_scope`]: ToolCallId::in_scope
/// [`scope`]: ToolCallId::scope
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolCallId(Box<str>);

impl ToolCallId {
    /// The id as the provider gave it.
    pub fn new(id: impl Into<String>) -> Self {
        ToolCallId(id.into().into_boxed_str())
    }

    /// Calls `f`, giving the first tool call it begins this id.
    pub fn in_scope<T>(self, f: impl FnOnce() -> T) -> T {
        with_tool_call_id(self.0, f)
    }

    /// Wraps the future of an async tool call: the call begins at its first poll, and
    /// gets this id then.
    pub fn scope<F: Future>(self, future: F) -> WithToolCallId<F> {
        WithToolCallId {
            inner: future,
            id: Some(self.0),
        }
    }
}

pin_project_lite::pin_project! {
    /// A future whose first poll begins a tool call with a given id (see
    /// [`ToolCallId::scope`]).
    #[derive(Debug)]
    pub struct WithToolCallId<F> {
        #[pin]
        inner: F,
        id: Option<Box<str>>,
    }
}

impl<F: Future> Future for WithToolCallId<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        match this.id.take() {
            Some(id) => with_tool_call_id(id, || this.inner.poll(cx)),
            None => this.inner.poll(cx),
        }
    }
}
