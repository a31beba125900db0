//! The options inside `#[agent_tool(..)]`.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::{Ident, LitStr};

const OPTIONS: &str = "`name = \"..\"`, `version = \"..\"`, `skip(param, ..)`, `skip_all`, `redact(param, ..)`, `skip_result`, `writes`, `timeout = \"30s\"`, `fields(..)`, `no_record`";

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
    /// `writes`: the tool has side effects; a "deny writes" kill switch refuses it.
    pub writes: bool,
    /// `timeout = "30s"`: an async tool's body ends at this deadline.
    pub timeout: Option<(LitStr, std::time::Duration)>,
    /// `skip_all`: no parameter is hashed (as `#[instrument(skip_all)]` records none).
    pub skip_all: bool,
    /// `fields(a = expr, ..)`: more fields on the tool's span, in `tracing`'s syntax.
    pub fields: Option<TokenStream>,
    /// `no_record`: the outcome is never recorded for replay (a tool returning secrets).
    pub no_record: bool,
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
            set_flag(&mut self.skip_result, "skip_result", &meta)
        } else if meta.path.is_ident("skip_all") {
            set_flag(&mut self.skip_all, "skip_all", &meta)
        } else if meta.path.is_ident("fields") {
            if self.fields.is_some() {
                return Err(meta.error("`fields(..)` is given twice"));
            }
            let content;
            syn::parenthesized!(content in meta.input);
            // Passed to the span as written: `tracing`'s own macro checks the syntax.
            self.fields = Some(content.parse()?);
            Ok(())
        } else if meta.path.is_ident("no_record") {
            set_flag(&mut self.no_record, "no_record", &meta)
        } else if meta.path.is_ident("writes") {
            set_flag(&mut self.writes, "writes", &meta)
        } else if meta.path.is_ident("timeout") {
            let text: LitStr = meta.value()?.parse()?;
            if self.timeout.is_some() {
                return Err(meta.error("`timeout` is given twice"));
            }
            let duration = humantime::parse_duration(text.value().trim()).map_err(|error| {
                syn::Error::new_spanned(
                    &text,
                    format!(
                        "`timeout` takes a duration like \"30s\", \"500ms\" or \"2m\": {error}"
                    ),
                )
            })?;
            if duration.is_zero() {
                return Err(syn::Error::new_spanned(
                    &text,
                    "`timeout` must be longer than zero",
                ));
            }
            self.timeout = Some((text, duration));
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

fn set_flag(flag: &mut bool, name: &str, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if *flag {
        return Err(meta.error(format_args!("`{name}` is given twice")));
    }
    *flag = true;
    Ok(())
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
