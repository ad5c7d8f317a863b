//! Model → tokens. Cannot fail: every rule was checked by `parse` and `validate`,
//! and type questions are left to rustc, aimed at the user's tokens.

use crate::args::{Args, Durability, Persist};
use crate::internals::{BinaryParam, Hook, HookKind, Service, ValueParam};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

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
    let persist = args
        .persist
        .as_ref()
        .map(|persist| expand_persist(service, persist));
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
    quote! {
        #[automatically_derived]
        impl ::stateroom::ServiceTypes for #self_ty {
            fn typescript() -> ::core::result::Result<::std::string::String, ::stateroom::TypesError> {
                #[allow(unused_imports)]
                use ::stateroom::__private::{ViaAnything as _, ViaMessage as _};
                ::stateroom::__private::typescript(#name, #inbound, #outbound)
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

/// The persistence constants and the state's JSON round trip. The type
/// check ("`Chat` cannot be persisted: … `Serialize`") is spanned on the
/// user's self type.
fn expand_persist(service: &Service, persist: &Persist) -> TokenStream {
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

/// `command`: the type-erased command is taken as the hook's parameter type
/// (a command of another type is reported to the sender), and the reply
/// boxed.
fn expand_command(self_ty: &syn::Type, hook: &Hook) -> TokenStream {
    let ident = &hook.ident;
    let ctx = ctx_arg(hook);
    let ty = hook
        .first_ty
        .as_deref()
        .map_or_else(|| quote!(()), |ty| quote!(#ty));
    quote! {
        fn command(
            &mut self,
            __stateroom_command: ::stateroom::Command,
            __stateroom_ctx: &impl ::stateroom::StateroomContext,
        ) -> ::core::result::Result<::stateroom::Reply, ::stateroom::CommandError> {
            let __stateroom_command = __stateroom_command.take::<#ty>()?;
            ::core::result::Result::Ok(::stateroom::Reply::new(
                <#self_ty>::#ident(self, __stateroom_command, #ctx),
            ))
        }
    }
}

fn expand_join(self_ty: &syn::Type, hook: &Hook) -> TokenStream {
    let ident = &hook.ident;
    let ctx = ctx_arg(hook);
    let call = quote!(<#self_ty>::#ident(self, __stateroom_request, #ctx));
    // Spanned on the user's return type: "the `join` hook must return
    // `Result<T, Reject>`" lands on it.
    let admit = match &hook.output {
        Some(ty) => quote_spanned! {ty.span()=>
            let __stateroom_outcome = #call;
            ::stateroom::__private::admit(__stateroom_outcome)
        },
        None => quote!(::stateroom::__private::admit(#call)),
    };
    quote! {
        fn join(
            &self,
            __stateroom_request: &::stateroom::JoinRequest,
            __stateroom_ctx: &impl ::stateroom::StateroomContext,
        ) -> ::core::result::Result<::stateroom::ClientData, ::stateroom::Reject> {
            #admit
        }
    }
}

fn expand_new(service: &Service) -> TokenStream {
    let self_ty = service.self_ty();
    let body = match service.hook(HookKind::New) {
        Some(hook) => {
            let ident = &hook.ident;
            let args = match hook.inputs {
                0 => quote!(),
                1 => quote!(__stateroom_room_id),
                _ => quote!(__stateroom_room_id, __stateroom_ctx),
            };
            quote!(<#self_ty>::#ident(#args))
        }
        None => quote_spanned! {self_ty.span()=>
            ::stateroom::__private::default_state::<#self_ty>()
        },
    };
    quote! {
        fn new(
            __stateroom_room_id: &::core::primitive::str,
            __stateroom_ctx: &impl ::stateroom::StateroomContext,
        ) -> Self {
            #body
        }
    }
}

fn expand_forward(self_ty: &syn::Type, hook: &Hook) -> TokenStream {
    let ident = &hook.ident;
    let ctx = ctx_arg(hook);
    let client = client_arg(hook);
    match hook.kind {
        HookKind::Timer | HookKind::Restore => quote! {
            fn #ident(&mut self, __stateroom_ctx: &impl ::stateroom::StateroomContext) {
                <#self_ty>::#ident(self, #ctx)
            }
        },
        _ => quote! {
            fn #ident(
                &mut self,
                __stateroom_client: ::stateroom::ClientId,
                __stateroom_ctx: &impl ::stateroom::StateroomContext,
            ) {
                <#self_ty>::#ident(self, #client, #ctx)
            }
        },
    }
}

fn expand_message(service: &Service) -> TokenStream {
    let self_ty = service.self_ty();
    let invalid = invalid_call(service);
    let body = match service.hook(HookKind::Message) {
        Some(hook) => {
            let ident = &hook.ident;
            let ctx = ctx_arg(hook);
            let client = client_arg(hook);
            let call =
                |message: TokenStream| quote!(<#self_ty>::#ident(self, #client, #message, #ctx));
            match &hook.value {
                Some(ValueParam::Typed(ty)) => {
                    let call = call(quote!(__stateroom_message));
                    // Spanned on the user's type: "`T` cannot be a room's message
                    // type" lands on `T` in their signature.
                    let decode = quote_spanned! {ty.span()=>
                        ::stateroom::__private::decode::<#ty>
                    };
                    quote! {
                        match #decode(__stateroom_text, __stateroom_client, __stateroom_ctx) {
                            ::core::result::Result::Ok(__stateroom_message) => #call,
                            ::core::result::Result::Err(__stateroom_error) => { #invalid }
                        }
                    }
                }
                Some(ValueParam::String) => {
                    call(quote!(::std::string::ToString::to_string(__stateroom_text)))
                }
                Some(ValueParam::Str | ValueParam::TimerKey) | None => {
                    call(quote!(__stateroom_text))
                }
            }
        }
        None => quote! {
            let __stateroom_error =
                ::stateroom::__private::unsupported_frame(__stateroom_ctx, __stateroom_client, "text");
            #invalid
        },
    };
    quote! {
        fn message(
            &mut self,
            __stateroom_client: ::stateroom::ClientId,
            __stateroom_text: &::core::primitive::str,
            __stateroom_ctx: &impl ::stateroom::StateroomContext,
        ) {
            #body
        }
    }
}

fn expand_binary(service: &Service) -> TokenStream {
    let self_ty = service.self_ty();
    let invalid = invalid_call(service);
    let body = match service.hook(HookKind::Binary) {
        Some(hook) => {
            let ident = &hook.ident;
            let ctx = ctx_arg(hook);
            let client = client_arg(hook);
            let data = match hook.binary {
                Some(BinaryParam::Vec) => {
                    quote!(<[::core::primitive::u8]>::to_vec(__stateroom_data))
                }
                _ => quote!(__stateroom_data),
            };
            quote!(<#self_ty>::#ident(self, #client, #data, #ctx))
        }
        None => quote! {
            let __stateroom_error =
                ::stateroom::__private::unsupported_frame(__stateroom_ctx, __stateroom_client, "binary");
            #invalid
        },
    };
    quote! {
        fn binary(
            &mut self,
            __stateroom_client: ::stateroom::ClientId,
            __stateroom_data: &[::core::primitive::u8],
            __stateroom_ctx: &impl ::stateroom::StateroomContext,
        ) {
            #body
        }
    }
}

fn expand_alarm(self_ty: &syn::Type, hook: &Hook) -> TokenStream {
    let ident = &hook.ident;
    let ctx = ctx_arg(hook);
    let call = |key: TokenStream| quote!(<#self_ty>::#ident(self, #key, #ctx));
    let body = match &hook.value {
        Some(ValueParam::TimerKey) | None => call(quote!(__stateroom_key)),
        Some(value) => {
            let (ty, key) = match value {
                ValueParam::Typed(ty) => (quote!(#ty), quote!(__stateroom_decoded)),
                ValueParam::Str => (
                    quote!(::std::string::String),
                    quote!(::std::string::String::as_str(&__stateroom_decoded)),
                ),
                _ => (quote!(::std::string::String), quote!(__stateroom_decoded)),
            };
            let call = call(key);
            // Spanned on the user's type: "`K` cannot be a timer key type"
            // lands on `K` in their signature.
            let span = match value {
                ValueParam::Typed(ty) => ty.span(),
                _ => ident.span(),
            };
            let decode = quote_spanned! {span=> ::stateroom::__private::decode_key::<#ty> };
            quote! {
                if let ::core::option::Option::Some(__stateroom_decoded) =
                    #decode(__stateroom_key, __stateroom_ctx)
                {
                    #call
                }
            }
        }
    };
    quote! {
        fn alarm(
            &mut self,
            __stateroom_key: &::stateroom::TimerKey,
            __stateroom_ctx: &impl ::stateroom::StateroomContext,
        ) {
            #body
        }
    }
}
