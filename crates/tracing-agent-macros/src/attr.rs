//! The options inside `#[agent_tool(..)]`.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::{Ident, LitStr};

const OPTIONS: &str = "`name = \"..\"`, `version = \"..\"`, `skip(param, ..)`, `skip_all`, `redact(param, ..)`, `skip_result`, `writes`, `timeout = \"30s\"`, `fields(..)`, `level = \"info\"`, `target = \"..\"`";

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
    /// `level = "debug"`: the span's level (`INFO` when absent), as `#[instrument]`'s.
    pub level: Option<Level>,
    /// `target = "myapp::tools"`: the span's target (`tracing_agent::tool` when absent).
    pub target: Option<LitStr>,
}

/// A `tracing::Level`, by the name of its constant.
#[derive(Clone, Copy)]
pub(crate) enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub(crate) fn constant(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }

    /// `"debug"` (any case) or `Level::DEBUG` (any path ending in the constant), the
    /// forms `#[instrument(level = ..)]` takes.
    fn parse(meta: &ParseNestedMeta<'_>) -> syn::Result<Level> {
        let value = meta.value()?;
        let (name, spanned): (String, proc_macro2::Span) = if value.peek(LitStr) {
            let text: LitStr = value.parse()?;
            (text.value().to_ascii_lowercase(), text.span())
        } else {
            let path: syn::Path = value.parse()?;
            let last = path.segments.last().map(|s| s.ident.clone());
            match last {
                Some(ident) => (ident.to_string().to_ascii_lowercase(), ident.span()),
                None => return Err(syn::Error::new_spanned(path, "expected a level")),
            }
        };
        match name.as_str() {
            "trace" => Ok(Level::Trace),
            "debug" => Ok(Level::Debug),
            "info" => Ok(Level::Info),
            "warn" => Ok(Level::Warn),
            "error" => Ok(Level::Error),
            _ => Err(syn::Error::new(
                spanned,
                format!("`level` takes \"trace\", \"debug\", \"info\", \"warn\" or \"error\" (or `Level::DEBUG` ..), not `{name}`"),
            )),
        }
    }
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
        } else if meta.path.is_ident("level") {
            let level = Level::parse(&meta)?;
            if self.level.is_some() {
                return Err(meta.error("`level` is given twice"));
            }
            self.level = Some(level);
            Ok(())
        } else if meta.path.is_ident("target") {
            let target: LitStr = meta.value()?.parse()?;
            if target.value().is_empty() {
                return Err(syn::Error::new_spanned(
                    &target,
                    "`target` must not be empty",
                ));
            }
            set_once(&mut self.target, target, &meta)
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
