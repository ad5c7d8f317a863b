//! `#[stateroom::message]`: a message type's TypeScript definition. Parses the
//! item, reads serde's tagging from it, and expands to the item with
//! `ts-rs`'s derive (reached through `stateroom::__private`, so users need no
//! `ts-rs` dependency) and an impl of the hidden `Message` trait that carries
//! the tag field's name for the generated client types.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, DeriveInput, LitStr};

/// Expands `#[stateroom::message]` on `item`; a spanned error otherwise.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    match message(args, item.clone()) {
        Ok(tokens) => tokens,
        Err(error) => {
            // Keep the user's item so that other errors stay about their code.
            let error = error.to_compile_error();
            quote!(#item #error)
        }
    }
}

fn message(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if !args.is_empty() {
        return Err(syn::Error::new_spanned(
            args,
            "`#[stateroom::message]` takes no arguments; rename fields and variants with `#[serde(...)]`",
        ));
    }
    let input: DeriveInput = syn::parse2(item.clone()).map_err(|error| {
        syn::Error::new(
            error.span(),
            "`#[stateroom::message]` goes on a struct or an enum that a room sends or receives",
        )
    })?;
    if let syn::Data::Union(union) = &input.data {
        return Err(syn::Error::new_spanned(
            union.union_token,
            "a union cannot be a message type: serde cannot encode it; use an enum",
        ));
    }
    let tag = match serde_tag(&input.attrs)? {
        Some(tag) => quote!(::core::option::Option::Some(#tag)),
        None => quote!(::core::option::Option::None),
    };
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        #[derive(::stateroom::__private::ts_rs::TS)]
        #[ts(crate = "::stateroom::__private::ts_rs")]
        #item

        #[automatically_derived]
        impl #impl_generics ::stateroom::__private::Message for #ident #ty_generics #where_clause {
            const TAG: ::core::option::Option<&'static ::core::primitive::str> = #tag;
        }
    })
}

/// The field named by `#[serde(tag = "…")]` (internally or adjacently tagged
/// enums), if any.
fn serde_tag(attrs: &[Attribute]) -> syn::Result<Option<LitStr>> {
    let mut tag = None;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("serde")) {
        // Other serde options are serde's business (and ts-rs reads them);
        // only `tag` matters here, so the rest are skipped whatever they are.
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("tag") {
                tag = Some(meta.value()?.parse::<LitStr>()?);
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _content;
                syn::parenthesized!(_content in meta.input);
            }
            Ok(())
        });
    }
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_tag_among_other_options() {
        let input: DeriveInput = syn::parse_quote! {
            #[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
            enum In { A }
        };
        assert_eq!(serde_tag(&input.attrs).unwrap().unwrap().value(), "kind");
        let input: DeriveInput = syn::parse_quote! {
            #[serde(untagged)]
            enum In { A(u8) }
        };
        assert!(serde_tag(&input.attrs).unwrap().is_none());
    }

    #[test]
    fn refuses_arguments_unions_and_functions() {
        let error = message(
            quote!(x),
            quote!(
                struct A;
            ),
        )
        .unwrap_err();
        assert!(error.to_string().contains("takes no arguments"));
        let error = message(quote!(), quote!(union U { a: u8 })).unwrap_err();
        assert!(error.to_string().contains("a union cannot"));
        let error = message(
            quote!(),
            quote!(
                fn f() {}
            ),
        )
        .unwrap_err();
        assert!(error.to_string().contains("struct or an enum"));
    }
}
