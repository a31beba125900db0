//! The annotated function, as the expansion needs it.

use proc_macro2::TokenStream;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType, Type};

pub(crate) struct ToolFn {
    pub item: ItemFn,
    pub params: Vec<Param>,
    pub returns_result: bool,
}

/// A named, typed parameter (never `self`, never `_`).
pub(crate) struct Param {
    pub ident: Ident,
    /// The name as written in `args_sha`'s object: the identifier without `r#`.
    pub name: String,
}

pub(crate) fn parse(item: TokenStream) -> syn::Result<ToolFn> {
    let item: syn::Item = syn::parse2(item.clone()).map_err(|_| not_a_fn(&item))?;
    let syn::Item::Fn(item) = item else {
        return Err(not_a_fn(&item));
    };
    let mut params = Vec::new();
    for input in &item.sig.inputs {
        let FnArg::Typed(typed) = input else {
            continue; // `self` is never hashed
        };
        match &*typed.pat {
            Pat::Ident(pat) if pat.subpat.is_none() => {
                let name = pat.ident.to_string();
                let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
                params.push(Param {
                    ident: pat.ident.clone(),
                    name,
                });
            }
            // The tool ignores it, so the hash does too.
            Pat::Wild(_) => {}
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "`#[agent_tool]` hashes each parameter under its name: bind this one to a name (`arg: Type`) and destructure it in the body",
                ))
            }
        }
    }
    let returns_result = match &item.sig.output {
        ReturnType::Type(_, ty) => is_result(ty),
        ReturnType::Default => false,
    };
    Ok(ToolFn {
        item,
        params,
        returns_result,
    })
}

/// `Result<..>`, `io::Result<..>`, `anyhow::Result<..>`, ...: the last path segment is
/// named `Result`. (A type alias under another name is treated as a plain value.)
fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Result"),
        Type::Paren(inner) => is_result(&inner.elem),
        Type::Group(inner) => is_result(&inner.elem),
        _ => false,
    }
}

fn not_a_fn(item: &impl quote::ToTokens) -> syn::Error {
    syn::Error::new(
        item.to_token_stream()
            .into_iter()
            .next()
            .map_or_else(proc_macro2::Span::call_site, |t| t.span()),
        "`#[agent_tool]` goes on a function: a free fn, a method, or an async fn with a body",
    )
}
