//! Which `self` each hook takes: none (`new`, `migrate`), `&self` (the
//! hooks that only read: `join` and the views), `&mut self` (the rest), and
//! what to say when it is wrong.

use crate::internals::{Errors, HookKind};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Receiver, Signature};

pub(super) fn check_receiver(
    kind: HookKind,
    sig: &Signature,
    receiver: Option<&Receiver>,
    errors: &mut Errors,
) {
    let name = kind.name();
    match (kind, receiver) {
        (HookKind::New | HookKind::Migrate, None) => {}
        (HookKind::Migrate, Some(receiver)) => errors.push(syn::Error::new_spanned(
            receiver,
            "the `migrate` hook turns an old snapshot into the current shape before the state exists, so it takes no `self`: write `fn migrate(from: u32, state: serde_json::Value) -> Result<serde_json::Value, String>`",
        )),
        (HookKind::Join, Some(receiver))
            if receiver.reference.is_some()
                && receiver.mutability.is_none()
                && receiver.colon_token.is_none() => {}
        (HookKind::Join, Some(receiver)) if receiver.mutability.is_some() => {
            errors.push(syn::Error::new_spanned(
                receiver,
                "the `join` hook takes `&self`, not `&mut self`: it only decides, before the client is in the room; change the state in `connect`",
            ));
        }
        (HookKind::View | HookKind::PrivateView, Some(receiver))
            if receiver.reference.is_some()
                && receiver.mutability.is_none()
                && receiver.colon_token.is_none() => {}
        (HookKind::View | HookKind::PrivateView, _) => {
            let message = format!(
                "the `{name}` hook takes `&self`: it reads the state after the room's events and never changes it; {}",
                kind.signatures()
            );
            errors.push(match receiver {
                Some(receiver) => syn::Error::new_spanned(receiver, message),
                None => syn::Error::new(sig.paren_token.span.join(), message),
            });
        }
        (HookKind::New, Some(receiver)) => errors.push(syn::Error::new_spanned(
            receiver,
            "the `new` hook builds the room's state, so it takes no `self`: write `fn new(room_id: &str, ctx: &impl StateroomContext) -> Self`",
        )),
        (HookKind::Join, _) => errors.push(syn::Error::new(
            receiver.map_or_else(|| sig.paren_token.span.join(), Spanned::span),
            format!("the `join` hook must take `&self` first: {}", kind.signatures()),
        )),
        (_, None) => errors.push(syn::Error::new(
            sig.paren_token.span.join(),
            format!("the `{name}` hook must take `&mut self` first: {}", kind.signatures()),
        )),
        (_, Some(receiver)) => {
            let by_mut_ref = receiver.reference.is_some()
                && receiver.mutability.is_some()
                && receiver.colon_token.is_none();
            if !by_mut_ref {
                let found = receiver.to_token_stream().to_string().replace("& ", "&");
                errors.push(syn::Error::new_spanned(
                    receiver,
                    format!(
                        "the `{name}` hook must take `&mut self`, not `{found}`: the room lends its state to each hook in turn"
                    ),
                ));
            }
        }
    }
}
