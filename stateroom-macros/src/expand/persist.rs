//! A persisted service's state functions and constants.

use crate::args::{Durability, Persist};
use crate::internals::{HookKind, Service};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// The persistence constants and the state's JSON round trip. The type
/// check ("`Chat` cannot be persisted: … `Serialize`") is spanned on the
/// user's self type.
pub(super) fn expand_persist(service: &Service, persist: &Persist) -> TokenStream {
    let self_ty = service.self_ty();
    let durability = match persist.durability {
        Durability::Gated => quote!(::stateroom::Durability::Gated),
        Durability::Manual => quote!(::stateroom::Durability::Manual),
        Durability::Debounced(ms) => quote! {
            ::stateroom::Durability::Debounced(::core::time::Duration::from_millis(#ms))
        },
    };
    let version = persist.version;
    let migrate = match service.hook(HookKind::Migrate) {
        Some(hook) => {
            let ident = &hook.ident;
            quote!(::core::option::Option::Some(<#self_ty>::#ident))
        }
        None => quote!(::core::option::Option::None),
    };
    // One call, the same at both sites, spanned on the user's type (so that
    // a state that is not `Serialize + Deserialize` is reported there);
    // `self` and the parameters stay unspanned, for hygiene.
    let persisted =
        quote_spanned! {self_ty.span()=> ::stateroom::__private::persisted::<#self_ty>() };
    let save = quote!((#persisted.save)(self));
    let load = quote!((#persisted.load)(__stateroom_version, __stateroom_json, #version, #migrate));
    quote! {
        const PERSIST: ::core::option::Option<::stateroom::Durability> =
            ::core::option::Option::Some(#durability);
        const STATE_VERSION: ::core::primitive::u32 = #version;
        fn save_state(&self) -> ::core::result::Result<::std::string::String, ::stateroom::StateError> {
            #save
        }
        fn load_state(
            __stateroom_version: ::core::primitive::u32,
            __stateroom_json: &::core::primitive::str,
        ) -> ::core::result::Result<Self, ::stateroom::StateError> {
            #load
        }
    }
}
