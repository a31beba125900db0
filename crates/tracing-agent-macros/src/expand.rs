//! Code generation for `#[agent_tool]`.
//!
//! The expansion is deliberately thin: a span, then `ToolCall::begin` (step id, args
//! hash, the guards' admission), a `match` on the runtime's decision (the gate: run the
//! original body, or return a refusal where the return type can carry one), and one call
//! reporting the outcome. Everything else lives in the `tracing-agent` runtime, so that
//! replay adds a decision there and an arm here.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{AttrStyle, ItemFn, ReturnType, Type};

use crate::ast::{self, ToolFn};
use crate::attr::{self, ToolAttr};
use crate::valid;

/// On a mistake the item is emitted as written, after the error: dropping it would add
/// an error at every use of the function (a method call, a trait impl missing it) on
/// top of the one mistake. `thiserror` keeps derives usable for the same reason.
pub(crate) fn agent_tool(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_agent_tool(args, item.clone()) {
        Ok(expanded) => expanded,
        Err(error) => {
            let mut kept = error.into_compile_error();
            kept.extend(item);
            kept
        }
    }
}

fn try_agent_tool(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    // Both halves are parsed before failing, so a wrong option and a wrong function
    // are reported in one compile rather than one after the other.
    let (attr, tool) = match (attr::parse(args), ast::parse(item)) {
        (Ok(attr), Ok(tool)) => (attr, tool),
        (Err(mut error), Err(more)) => {
            error.combine(more);
            return Err(error);
        }
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => return Err(error),
    };
    valid::check(&attr, &tool)?;
    Ok(generate(&attr, &tool))
}

/// The runtime the expansion calls into, versioned with it (see `tracing_agent::__private_v1`).
fn runtime() -> TokenStream {
    quote!(::tracing_agent::__private_v1)
}

fn generate(attr: &ToolAttr, tool: &ToolFn) -> TokenStream {
    let rt = runtime();
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = &tool.item;
    let (inner_attrs, outer_attrs): (Vec<_>, Vec<_>) = attrs
        .iter()
        .partition(|a| matches!(a.style, AttrStyle::Inner(_)));

    let fn_name = sig.ident.to_string();
    let name = attr.name.as_ref().map_or_else(
        || fn_name.strip_prefix("r#").unwrap_or(&fn_name).to_owned(),
        |lit| lit.value(),
    );
    let version = match &attr.version {
        Some(version) => quote!(::core::option::Option::Some(#version)),
        None => quote!(::core::option::Option::None),
    };
    let info = if attr.writes {
        quote!(#rt::ToolInfo::new(#name, #version).writing())
    } else {
        quote!(#rt::ToolInfo::new(#name, #version))
    };

    let fields = attr.fields.clone().unwrap_or_default();
    let level = format_ident!("{}", attr.level.map_or("INFO", |level| level.constant()));
    let target = attr
        .target
        .as_ref()
        .map_or_else(|| quote!("tracing_agent::tool"), |target| quote!(#target));
    let span = quote! {
        #rt::tracing::span!(
            target: #target,
            #rt::tracing::Level::#level,
            "execute_tool",
            step_id = #rt::tracing::field::Empty,
            gen_ai.tool.name = #name,
            gen_ai.tool.call.id = #rt::tracing::field::Empty,
            gen_ai.operation.name = "execute_tool",
            // OpenTelemetry's span name (the kind is `tracing-opentelemetry`'s default,
            // internal, as the convention asks), and what a failed call records: the
            // convention's `error.type` and error status.
            otel.name = ::core::concat!("execute_tool ", #name),
            error.type = #rt::tracing::field::Empty,
            otel.status_code = #rt::tracing::field::Empty,
            #fields
        )
    };

    let hash_args = hash_args(attr, tool);
    let body = body_with_return_type(sig, block);
    let run_body = if sig.asyncness.is_some() {
        let instrumented = quote! {
            #rt::tracing::Instrument::instrument(
                async move #body,
                ::core::clone::Clone::clone(&__agent_span),
            )
        };
        match &attr.timeout {
            None => quote!(#instrumented.await),
            Some((_, timeout)) => {
                let (secs, nanos) = (timeout.as_secs(), timeout.subsec_nanos());
                quote! {
                    match #rt::within(::core::time::Duration::new(#secs, #nanos), #instrumented).await {
                        ::core::result::Result::Ok(__agent_value) => __agent_value,
                        ::core::result::Result::Err(__agent_elapsed) => {
                            #rt::timed_out(&mut __agent_call, &__AGENT_TOOL, __agent_elapsed)
                        }
                    }
                }
            }
        }
    } else {
        quote! {{
            let __agent_entered = __agent_span.enter();
            // Called through an `FnOnce` bound: a body that returns a borrow of a
            // captured `&mut self` compiles only as a once-called closure.
            #rt::call_once(move || #body)
        }}
    };
    // A refusal becomes the return value where the declared type can carry one; an
    // `impl Trait` return cannot be named here, so such a tool always runs its body.
    let refuse = match nameable_return_type(sig) {
        Some(return_type) => quote! {{
            #[allow(unused_imports)]
            use #rt::{RefuseInPlace as _, RunAnyway as _};
            (&#rt::Refuse::<#return_type>::new()).refuse(&mut __agent_call, __agent_refused)
        }},
        None => quote!({
            let _ = __agent_refused;
            ::core::option::Option::None
        }),
    };
    let report = report_outcome(attr, tool);

    quote! {
        #(#outer_attrs)*
        #vis #sig {
            #(#inner_attrs)*
            let __agent_span = #span;
            static __AGENT_TOOL: #rt::ToolInfo = #info;
            let mut __agent_call = #rt::ToolCall::begin(&__agent_span, &__AGENT_TOOL, #hash_args);
            // The gate: the one place where the runtime's decision picks what happens.
            let __agent_refusal = match #rt::ToolCall::decision(&mut __agent_call) {
                #rt::Decision::Run => ::core::option::Option::None,
                #rt::Decision::Refuse(__agent_refused) => #refuse,
            };
            let __agent_result = match __agent_refusal {
                ::core::option::Option::Some(__agent_refused) => __agent_refused,
                ::core::option::Option::None => #run_body,
            };
            #report
            __agent_result
        }
    }
}

/// A closure feeding each hashed parameter to the `ToolArgs`, in name order (the
/// order Python's `sort_keys` gives), so the runtime never sorts the top level.
fn hash_args(attr: &ToolAttr, tool: &ToolFn) -> TokenStream {
    let rt = runtime();
    let mut hashed: Vec<_> = tool
        .params
        .iter()
        .filter(|param| !attr.skip_all && !attr.skips.contains(&param.ident))
        .collect();
    hashed.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let feeds = hashed.iter().map(|param| {
        let ident = &param.ident;
        let name = &param.name;
        let feed = if attr.redacts.contains(ident) {
            quote_spanned!(ident.span()=> redacted_arg)
        } else {
            quote_spanned!(ident.span()=> arg)
        };
        // The marker type named after the parameter puts its name into the
        // "not Serialize" error (see `ToolArg`'s `on_unimplemented`).
        quote_spanned! {ident.span()=>
            {
                let __agent_value = &#ident;
                // In a block of its own: an item is visible in its whole block, and
                // would shadow the parameter in the line above.
                {
                    #[allow(non_camel_case_types, dead_code)]
                    struct #ident;
                    ::tracing_agent::__private_v1::#feed::<#ident, _>(__agent_args, #name, __agent_value);
                }
            }
        }
    });
    quote! {
        |__agent_args: &mut #rt::ToolArgs| { #(#feeds)* }
    }
}

/// Reports `__agent_result` to `__agent_call`: `ok` with the hashed value, or `err`
/// with the error's class.
fn report_outcome(attr: &ToolAttr, tool: &ToolFn) -> TokenStream {
    let rt = runtime();
    let result_span = match &tool.item.sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => tool.item.sig.ident.span(),
    };
    let ok = |value: TokenStream| {
        if attr.skip_result {
            quote!(__agent_call.ok_unhashed())
        } else {
            quote_spanned!(result_span=> ::tracing_agent::__private_v1::result(&mut __agent_call, #value))
        }
    };
    if tool.returns_result {
        let ok = ok(quote_spanned!(result_span=> __agent_value));
        quote! {
            match &__agent_result {
                ::core::result::Result::Ok(__agent_value) => #ok,
                ::core::result::Result::Err(__agent_error) => __agent_call.err({
                    #[allow(unused_imports)]
                    use #rt::{ClassFromTrait as _, ClassFromTypeName as _};
                    (&#rt::Classify(__agent_error)).agent_error_class()
                }),
            }
        }
    } else {
        let ok = ok(quote_spanned!(result_span=> &__agent_result));
        quote!(#ok;)
    }
}

/// The body, preceded by an unreachable `return` of the declared type: it pins the
/// closure's or async block's output type, so `?` inside the body converts errors into
/// the declared error type exactly as it would in the original function.
fn body_with_return_type(sig: &syn::Signature, block: &syn::Block) -> TokenStream {
    let (return_type, span) = match &sig.output {
        ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            EraseImplTrait.visit_type_mut(&mut ty);
            (ty.into_token_stream(), sig.output.span())
        }
        ReturnType::Default => (quote!(()), Span::call_site()),
    };
    let stmts = &block.stmts;
    quote_spanned! {span=>
        {
            #[allow(
                unreachable_code,
                clippy::diverging_sub_expression,
                clippy::let_unit_value,
                clippy::unreachable,
                clippy::needless_return
            )]
            if false {
                let __agent_declared: #return_type = ::core::unreachable!();
                return __agent_declared;
            }
            #(#stmts)*
        }
    }
}

/// The declared return type, where the body can name it (no `impl Trait` in it).
fn nameable_return_type(sig: &syn::Signature) -> Option<TokenStream> {
    match &sig.output {
        ReturnType::Default => Some(quote!(())),
        ReturnType::Type(_, ty) => {
            let mut finder = FindImplTrait(false);
            finder.visit_type_mut(&mut (**ty).clone());
            (!finder.0).then(|| ty.to_token_stream())
        }
    }
}

/// Notes whether a type holds an `impl Trait`.
struct FindImplTrait(bool);

impl VisitMut for FindImplTrait {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if matches!(ty, Type::ImplTrait(_)) {
            self.0 = true;
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}

/// `impl Trait` cannot be named inside the body: let inference fill it in instead.
struct EraseImplTrait;

impl VisitMut for EraseImplTrait {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(impl_trait) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: syn::Token![_](impl_trait.span()),
            });
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}
