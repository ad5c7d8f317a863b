//! One hook each: how the trait's method calls the user's.

use super::{client_arg, ctx_arg, invalid_call};
use crate::internals::{BinaryParam, Hook, HookKind, Service, ValueParam};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// `command`: the type-erased command is taken as the hook's parameter type
/// (a command of another type is reported to the sender), and the reply
/// boxed.
pub(super) fn expand_command(self_ty: &syn::Type, hook: &Hook) -> TokenStream {
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

pub(super) fn expand_join(self_ty: &syn::Type, hook: &Hook) -> TokenStream {
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

pub(super) fn expand_new(service: &Service) -> TokenStream {
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

pub(super) fn expand_forward(self_ty: &syn::Type, hook: &Hook) -> TokenStream {
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

pub(super) fn expand_message(service: &Service) -> TokenStream {
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

pub(super) fn expand_binary(service: &Service) -> TokenStream {
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

pub(super) fn expand_alarm(self_ty: &syn::Type, hook: &Hook) -> TokenStream {
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

/// `view` and `private_view`: the state as JSON, through a helper spanned on
/// the user's return type ("`Board` does not implement `Serialize`" lands
/// on `-> Board`).
pub(super) fn expand_sync(service: &Service) -> Option<TokenStream> {
    let view = service.hook(HookKind::View);
    let private = service.hook(HookKind::PrivateView);
    if view.is_none() && private.is_none() {
        return None;
    }
    let self_ty = service.self_ty();
    // The user's return type, seen through its references, as the helper's
    // type argument: "`Board` cannot be synced" lands on `Board` in
    // `-> &Board`. (`impl Serialize` cannot be named: no type argument.)
    let json = |hook: &Hook, call: TokenStream| match hook.view_type() {
        Some((ty, references)) => {
            let derefs = std::iter::repeat_n(quote!(*), references);
            quote! {
                let __stateroom_view = #call;
                ::core::option::Option::Some(
                    ::stateroom::__private::view_json::<#ty>(&#(#derefs)*__stateroom_view),
                )
            }
        }
        None => quote! {
            ::core::option::Option::Some(::stateroom::__private::view_json(&#call))
        },
    };
    let view = view.map(|hook| {
        let ident = &hook.ident;
        let body = json(hook, quote!(<#self_ty>::#ident(self)));
        quote! {
            fn view(&self) -> ::core::option::Option<::core::result::Result<
                ::stateroom::__private::serde_json::Value,
                ::stateroom::__private::serde_json::Error,
            >> {
                #body
            }
        }
    });
    let private = private.map(|hook| {
        let ident = &hook.ident;
        let client = client_arg(hook);
        let body = json(hook, quote!(<#self_ty>::#ident(self, #client)));
        quote! {
            fn private_view(
                &self,
                __stateroom_client: ::stateroom::ClientId,
            ) -> ::core::option::Option<::core::result::Result<
                ::stateroom::__private::serde_json::Value,
                ::stateroom::__private::serde_json::Error,
            >> {
                #body
            }
        }
    });
    Some(quote! {
        const SYNC: ::core::primitive::bool = true;
        #view
        #private
    })
}
