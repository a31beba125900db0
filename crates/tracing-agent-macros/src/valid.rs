//! Checks that need both the options and the function.

use syn::FnArg;

use crate::ast::ToolFn;
use crate::attr::ToolAttr;

pub(crate) fn check(attr: &ToolAttr, tool: &ToolFn) -> syn::Result<()> {
    // Every mistake is collected, so that fixing one does not uncover the next.
    let mut errors = Vec::new();
    if let Some(constness) = &tool.item.sig.constness {
        errors.push(syn::Error::new_spanned(
            constness,
            "`#[agent_tool]` cannot go on a `const fn`: a tool call writes an event at run time",
        ));
    }
    if let Some((text, _)) = &attr.timeout {
        if tool.item.sig.asyncness.is_none() {
            errors.push(syn::Error::new_spanned(
                text,
                "`timeout` needs an `async fn`: a sync body cannot be stopped from outside; run it on a blocking thread inside an async tool",
            ));
        } else if !tool.returns_result {
            errors.push(syn::Error::new_spanned(
                text,
                "`timeout` needs a tool that returns `Result<_, E>` with `E: From<tracing_agent::Refused>`: a call that times out returns the refusal as its error",
            ));
        }
    }
    if attr.skip_all {
        for (option, names) in [("skip", &attr.skips), ("redact", &attr.redacts)] {
            if let Some(first) = names.first() {
                errors.push(syn::Error::new_spanned(
                    first,
                    format!("`{option}(..)` has nothing to do with `skip_all`: no parameter is hashed or stored"),
                ));
            }
        }
    }
    let has_self = tool
        .item
        .sig
        .inputs
        .iter()
        .any(|input| matches!(input, FnArg::Receiver(_)));
    let mut seen = Vec::new();
    for (option, names) in [("skip", &attr.skips), ("redact", &attr.redacts)] {
        for name in names {
            if seen.contains(&name) {
                errors.push(syn::Error::new_spanned(
                    name,
                    format!("`{name}` is named twice in `skip(..)`/`redact(..)`: a parameter is either left out of the hash or hashed and redacted"),
                ));
                // Its first mention already said whether the name is unknown.
                continue;
            }
            seen.push(name);
            let known = if name == "self" {
                option == "skip" && has_self
            } else {
                tool.params.iter().any(|param| param.ident == *name)
            };
            if !known {
                errors.push(unknown_param(option, name, tool));
            }
        }
    }
    combined(errors)
}

/// `Err` with all of `errors` (each shown as its own compile error), `Ok` if none.
fn combined(errors: impl IntoIterator<Item = syn::Error>) -> syn::Result<()> {
    errors
        .into_iter()
        .reduce(|mut all, next| {
            all.combine(next);
            all
        })
        .map_or(Ok(()), Err)
}

fn unknown_param(option: &str, name: &syn::Ident, tool: &ToolFn) -> syn::Error {
    let names: Vec<String> = tool
        .params
        .iter()
        .map(|p| format!("`{}`", p.name))
        .collect();
    let hint = if names.is_empty() {
        "it has no parameters".to_owned()
    } else {
        format!("its parameters are {}", names.join(", "))
    };
    syn::Error::new_spanned(
        name,
        format!(
            "cannot {option} `{name}`: `{}` has no parameter of that name ({hint})",
            tool.item.sig.ident
        ),
    )
}
