//! Model → tokens. Cannot fail: every rule was checked by `parse` and `validate`,
//! and type questions are left to rustc, aimed at the user's tokens.

use crate::args::{Args, PresenceMode};
use crate::internals::{Hook, HookKind, Service, ValueParam};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

mod doc;
mod hooks;
mod persist;

use doc::expand_doc;
use hooks::{
    expand_alarm, expand_binary, expand_command, expand_forward, expand_join, expand_message,
    expand_new, expand_sync,
};
use persist::expand_persist;

pub(crate) fn expand(args: &Args, service: &Service) -> TokenStream {
    let item = &service.item;
    let self_ty = service.self_ty();
    let new = expand_new(service);
    let forwarded = [
        HookKind::Connect,
        HookKind::Reconnect,
        HookKind::Disconnect,
        HookKind::Timer,
        HookKind::Restore,
    ]
    .into_iter()
    .filter_map(|kind| service.hook(kind))
    .map(|hook| expand_forward(self_ty, hook));
    let message = expand_message(service);
    let binary = expand_binary(service);
    let alarm = service
        .hook(HookKind::Alarm)
        .map(|hook| expand_alarm(self_ty, hook));
    let join = service
        .hook(HookKind::Join)
        .map(|hook| expand_join(self_ty, hook));
    let command = service
        .hook(HookKind::Command)
        .map(|hook| expand_command(self_ty, hook));
    let request = service.hook(HookKind::Request).map(|hook| {
        let ident = &hook.ident;
        let ctx = ctx_arg(hook);
        quote! {
            const ANSWERS_HTTP: ::core::primitive::bool = true;
            fn request(
                &mut self,
                __stateroom_request: &::stateroom::RoomRequest,
                __stateroom_ctx: &impl ::stateroom::StateroomContext,
            ) -> ::stateroom::RoomResponse {
                <#self_ty>::#ident(self, __stateroom_request, #ctx)
            }
        }
    });
    let sync = expand_sync(service);
    let doc = expand_doc(args, service);
    let persist = args
        .persist
        .as_ref()
        .map(|persist| expand_persist(service, persist));
    let rate = args.patch_rate.as_ref().map(|(ms, _)| {
        quote! {
            const PATCH_RATE: ::core::option::Option<::core::time::Duration> =
                ::core::option::Option::Some(::core::time::Duration::from_millis(#ms));
        }
    });
    let presence = args.presence.map(|mode| {
        let mode = match mode {
            PresenceMode::Full => quote!(Full),
            PresenceMode::Count => quote!(Count),
        };
        quote! {
            const PRESENCE: ::stateroom::Presence = ::stateroom::Presence::#mode;
        }
    });
    let listed = args.listed.then(|| {
        quote!(
            const LISTED: ::core::primitive::bool = true;
        )
    });
    let reconnect = args.reconnect_ms.map(|ms| {
        quote! {
            const RECONNECT_WINDOW: ::core::option::Option<::core::time::Duration> =
                ::core::option::Option::Some(::core::time::Duration::from_millis(#ms));
        }
    });
    // Relative to the crate (absolute paths stay as they are), as a default
    // that `--static-dir` overrides.
    let static_dir = match &args.static_dir {
        Some(dir) if dir.value().starts_with('/') => quote!(::core::option::Option::Some(#dir)),
        Some(dir) => quote! {
            ::core::option::Option::Some(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/", #dir))
        },
        None => quote!(::core::option::Option::None),
    };
    let main = (!args.no_main).then(|| {
        quote! {
            /// Serves this service: flags and environment variables as in
            /// `stateroom::ServerArgs`, logs filtered by `RUST_LOG`.
            fn main() {
                ::stateroom::__private::run_typed::<#self_ty>(#static_dir);
            }
        }
    });
    let types = expand_types(args, service);
    quote! {
        #item

        const _: () = {
            #types

            #[automatically_derived]
            #[allow(unused_variables, clippy::unused_unit)]
            impl ::stateroom::SimpleStateroomService for #self_ty {
                #reconnect
                #persist
                #new
                #join
                #command
                #request
                #(#forwarded)*
                #message
                #binary
                #alarm
                #sync
                #rate
                #presence
                #listed
                #doc
            }
        };

        #main
    }
}

/// `ServiceTypes`: the TypeScript definitions of the message types. Each
/// side is probed (autoref specialisation in `__private`): a type marked
/// `#[stateroom::message]` contributes its definitions, any other type only
/// its name, so that `--emit-ts` can say what to add instead of failing to
/// compile a service that never asked for client types.
fn expand_types(args: &Args, service: &Service) -> TokenStream {
    let self_ty = service.self_ty();
    let name = match self_ty {
        syn::Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string()),
        _ => None,
    }
    .unwrap_or_else(|| "Service".to_owned());
    let probe = |ty: &syn::Type| {
        let rust = quote!(#ty).to_string().replace(' ', "");
        quote! {
            ::stateroom::__private::Side::probed(
                (&&::stateroom::__private::Probe::<#ty>::new()).declared(),
                #rust,
            )
        }
    };
    let inbound = match service
        .hook(HookKind::Message)
        .and_then(|hook| hook.value.as_ref())
    {
        Some(ValueParam::Typed(ty)) => probe(ty),
        Some(_) => quote!(::stateroom::__private::Side::Text),
        None => quote!(::stateroom::__private::Side::Nothing),
    };
    let outbound = match &args.outbound {
        Some(ty) => probe(ty),
        None => quote!(::stateroom::__private::Side::Unknown),
    };
    // A view's type (`&Board` syncs a `Board`); a type that cannot be
    // named (`impl Serialize`) is `unknown`.
    let view = |kind: HookKind| match service.hook(kind).map(Hook::view_type) {
        None => quote!(::stateroom::__private::Side::Nothing),
        Some(Some((ty, _))) => probe(ty),
        Some(None) => quote!(::stateroom::__private::Side::Unknown),
    };
    let state = view(HookKind::View);
    let private = view(HookKind::PrivateView);
    quote! {
        #[automatically_derived]
        impl ::stateroom::ServiceTypes for #self_ty {
            fn typescript() -> ::core::result::Result<::std::string::String, ::stateroom::TypesError> {
                #[allow(unused_imports)]
                use ::stateroom::__private::{ViaAnything as _, ViaMessage as _};
                ::stateroom::__private::typescript(#name, #inbound, #outbound, #state, #private)
            }
        }
    }
}

fn ctx_arg(hook: &Hook) -> Option<TokenStream> {
    hook.takes_ctx().then(|| quote!(__stateroom_ctx))
}

/// The client argument, converted to the user's parameter type through a
/// helper spanned on that type: "`u32` cannot be a hook's client parameter"
/// lands on `u32` in their signature.
fn client_arg(hook: &Hook) -> TokenStream {
    match &hook.client_ty {
        Some(ty) => quote_spanned! {ty.span()=>
            ::stateroom::__private::client_param::<#ty>(__stateroom_client)
        },
        None => quote!(__stateroom_client),
    }
}

/// What to do with a frame the room could not accept (its error frame
/// already sent, bound to `__stateroom_error`): call the `invalid` hook if
/// the service has one.
fn invalid_call(service: &Service) -> TokenStream {
    let self_ty = service.self_ty();
    match service.hook(HookKind::Invalid) {
        Some(hook) => {
            let ident = &hook.ident;
            let client = client_arg(hook);
            let ctx = ctx_arg(hook);
            quote!(<#self_ty>::#ident(self, #client, &__stateroom_error, #ctx))
        }
        None => quote!(let _ = __stateroom_error;),
    }
}
