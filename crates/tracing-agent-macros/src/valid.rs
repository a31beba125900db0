//! Checks that need both the options and the function.

use syn::FnArg;

use crate::ast::ToolFn;
use crate::attr::ToolAttr;

pub(crate) fn check(attr: &ToolAttr, tool: &ToolFn) -> syn::Result<()> {
    if let Some(constness) = &tool.item.sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "`#[agent_tool]` cannot go on a `const fn`: a tool call writes an event at run time",
        ));
    }
    let has_self = tool
        .item
        .sig
        .inputs
        .iter()
        .any(|input| matches!(input, FnArg::Receiver(_)));
    let mut seen = Vec::new();
    for skip in &attr.skips {
        if seen.contains(&skip) {
            return Err(syn::Error::new_spanned(
                skip,
                format!("`{skip}` is skipped twice"),
            ));
        }
        seen.push(skip);
        let known = if skip == "self" {
            has_self
        } else {
            tool.params.iter().any(|param| param.ident == *skip)
        };
        if !known {
            let names: Vec<String> = tool
                .params
                .iter()
                .map(|p| format!("`{}`", p.name))
                .collect();
            let hint = if names.is_empty() {
                "it has no parameters to skip".to_owned()
            } else {
                format!("its parameters are {}", names.join(", "))
            };
            return Err(syn::Error::new_spanned(
                skip,
                format!(
                    "cannot skip `{skip}`: `{}` has no parameter of that name ({hint})",
                    tool.item.sig.ident
                ),
            ));
        }
    }
    Ok(())
}
