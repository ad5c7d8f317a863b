//! A `doc` service's hooks (`#[stateroom::service(doc)]`): `seed`, `update`
//! and `changed`, forwarded to the trait's `seed`, `doc_update` and
//! `doc_changed`, and the `DOC` constant. The document's types come from
//! the facade's `yjs` feature; without it, an error points at `doc`.

use super::{client_arg, ctx_arg};
use crate::args::Args;
use crate::internals::{HookKind, Service};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub(super) fn expand_doc(args: &Args, service: &Service) -> Option<TokenStream> {
    let span = args.doc?;
    let self_ty = service.self_ty();
    let doc_ty = quote!(::stateroom::__private::yrs::Doc);
    // `seed` and `changed` take the document (and the context).
    let with_doc = |kind: HookKind, method: syn::Ident| {
        service.hook(kind).map(|hook| {
            let ident = &hook.ident;
            let ctx = ctx_arg(hook);
            quote! {
                fn #method(
                    &mut self,
                    __stateroom_doc: &#doc_ty,
                    __stateroom_ctx: &impl ::stateroom::StateroomContext,
                ) {
                    <#self_ty>::#ident(self, __stateroom_doc, #ctx)
                }
            }
        })
    };
    let seed = with_doc(HookKind::Seed, syn::Ident::new("seed", span));
    let update = service.hook(HookKind::Update).map(|hook| {
        let ident = &hook.ident;
        let ctx = ctx_arg(hook);
        let client = client_arg(hook);
        let call = quote!(<#self_ty>::#ident(self, #client, __stateroom_update, #ctx));
        // Spanned on the user's return type: a wrong one is reported there.
        let body = match &hook.output {
            Some(ty) => quote_spanned! {ty.span()=>
                let __stateroom_verdict = #call;
                ::stateroom::__private::doc_verdict(__stateroom_verdict)
            },
            None => call,
        };
        quote! {
            fn doc_update(
                &mut self,
                __stateroom_client: ::stateroom::ClientId,
                __stateroom_update: &::stateroom::__private::DocUpdate<'_>,
                __stateroom_ctx: &impl ::stateroom::StateroomContext,
            ) -> ::core::result::Result<(), ::stateroom::Reject> {
                #body
            }
        }
    });
    let changed = with_doc(HookKind::Changed, syn::Ident::new("doc_changed", span));
    let feature = quote_spanned! {span=> ::stateroom::__private::doc_rooms!(); };
    Some(quote! {
        #feature
        const DOC: ::core::primitive::bool = true;
        #seed
        #update
        #changed
    })
}
