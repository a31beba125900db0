//! `#[derive(ErrorClass)]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput};

pub(crate) fn derive(input: DeriveInput) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let body = match &input.data {
        Data::Enum(data) => {
            let arms = data.variants.iter().map(|variant| {
                let name = &variant.ident;
                let class = name.to_string();
                quote!(Self::#name { .. } => #class)
            });
            quote! {
                ::std::borrow::Cow::Borrowed(match self { #(#arms,)* })
            }
        }
        Data::Struct(_) => {
            let class = ident.to_string();
            quote!(::std::borrow::Cow::Borrowed(#class))
        }
        Data::Union(_) => {
            return Err(syn::Error::new_spanned(
                &input.ident,
                "`ErrorClass` can be derived for enums and structs, not unions",
            ))
        }
    };
    Ok(quote! {
        impl #impl_generics ::tracing_agent::ErrorClass for #ident #ty_generics #where_clause {
            fn error_class(&self) -> ::std::borrow::Cow<'static, str> {
                #body
            }
        }
    })
}
