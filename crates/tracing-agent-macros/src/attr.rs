//! The options inside `#[agent_tool(..)]`.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::{Ident, LitStr};

const OPTIONS: &str =
    "`name = \"..\"`, `version = \"..\"`, `skip(param, ..)`, `redact(param, ..)`, `skip_result`";

#[derive(Default)]
pub(crate) struct ToolAttr {
    /// `name = ".."`: the tool's name in events; the fn's name when absent.
    pub name: Option<LitStr>,
    /// `version = ".."`: written as `tool_version`.
    pub version: Option<LitStr>,
    /// `skip(a, b)`: parameters left out of `args_sha`.
    pub skips: Vec<Ident>,
    /// `redact(a, b)`: parameters hashed, but stored (with `store_args`) as `[REDACTED]`.
    pub redacts: Vec<Ident>,
    /// `skip_result`: no `result_sha`, and the return type need not be `Serialize`.
    pub skip_result: bool,
}

pub(crate) fn parse(args: TokenStream) -> syn::Result<ToolAttr> {
    let mut attr = ToolAttr::default();
    let parser = syn::meta::parser(|meta| attr.parse_option(meta));
    syn::parse::Parser::parse2(parser, args)?;
    Ok(attr)
}

impl ToolAttr {
    fn parse_option(&mut self, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        if meta.path.is_ident("name") {
            let name: LitStr = meta.value()?.parse()?;
            set_once(&mut self.name, name, &meta)
        } else if meta.path.is_ident("version") {
            let version: LitStr = meta.value()?.parse()?;
            set_once(&mut self.version, version, &meta)
        } else if meta.path.is_ident("skip") {
            parse_param_names(&meta, "skip", "client", &mut self.skips)
        } else if meta.path.is_ident("redact") {
            parse_param_names(&meta, "redact", "body", &mut self.redacts)
        } else if meta.path.is_ident("skip_result") {
            if self.skip_result {
                return Err(meta.error("`skip_result` is given twice"));
            }
            self.skip_result = true;
            Ok(())
        } else {
            let shown = meta
                .path
                .get_ident()
                .map_or_else(|| "this option".to_owned(), |i| format!("`{i}`"));
            Err(meta.error(format_args!(
                "unknown `#[agent_tool]` option {shown}; expected one of {OPTIONS}"
            )))
        }
    }
}

/// `option(a, b, ..)`: parameter names.
fn parse_param_names(
    meta: &ParseNestedMeta<'_>,
    option: &str,
    example: &str,
    names: &mut Vec<Ident>,
) -> syn::Result<()> {
    meta.parse_nested_meta(|param| {
        let ident = param.path.get_ident().cloned().ok_or_else(|| {
            param.error(format_args!(
                "`{option}(..)` takes parameter names, e.g. `{option}({example})`"
            ))
        })?;
        names.push(ident);
        Ok(())
    })
}

fn set_once(
    slot: &mut Option<LitStr>,
    value: LitStr,
    meta: &ParseNestedMeta<'_>,
) -> syn::Result<()> {
    if slot.is_some() {
        let option = meta
            .path
            .get_ident()
            .map(Ident::to_string)
            .unwrap_or_default();
        return Err(syn::Error::new_spanned(
            &meta.path,
            format!("`{option}` is given twice"),
        ));
    }
    if value.value().trim().is_empty() {
        return Err(syn::Error::new_spanned(&value, "must not be empty"));
    }
    *slot = Some(value);
    Ok(())
}
