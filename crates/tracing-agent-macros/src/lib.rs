//! Procedural macros of [tracing-agent](https://docs.rs/tracing-agent): `#[agent_tool]`
//! and `#[derive(ErrorClass)]`. Use them through the `tracing-agent` crate, which
//! re-exports them and holds the runtime they expand to.

mod ast;
mod attr;
mod error_class;
mod expand;
mod valid;

use proc_macro::TokenStream;

/// Turns a function into an agent tool: every call writes one `tool_result` event.
///
/// See the `tracing-agent` crate for the options (`name`, `version`, `skip(..)`, `redact(..)`,
/// `skip_result`) and the event schema.
#[proc_macro_attribute]
pub fn agent_tool(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::agent_tool(args.into(), item.into()).into()
}

/// Derives `tracing_agent::ErrorClass`: an enum's class is its variant's name, a
/// struct's its own name.
#[proc_macro_derive(ErrorClass)]
pub fn derive_error_class(input: TokenStream) -> TokenStream {
    error_class::derive(syn::parse_macro_input!(input as syn::DeriveInput))
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
