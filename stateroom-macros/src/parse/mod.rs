//! The user's `impl` block → our model (`crate::internals`): which hooks it
//! has, their parameters and the types that matter. Every error points at
//! the user's own tokens; errors that do not depend on each other are
//! collected and reported together.

use crate::internals::{BinaryParam, Errors, Hook, HookKind, Service, ValueParam};
use crate::suggest::closest;
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, Item, Pat, Signature, Type};

mod receiver;
#[cfg(test)]
mod tests;

use receiver::check_receiver;

/// Parses the attributed item. On an item that is not an inherent impl, the
/// error explains where the attribute belongs.
pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Service> {
    let item: Item = syn::parse2(tokens)?;
    let item = match item {
        Item::Impl(item) => item,
        Item::Struct(item) => {
            return Err(syn::Error::new(
                item.struct_token.span,
                format!(
                    "`#[stateroom::service]` goes on the service's `impl` block, not on the struct: write `#[stateroom::service] impl {} {{ … }}`",
                    item.ident
                ),
            ));
        }
        Item::Enum(item) => {
            return Err(syn::Error::new(
                item.enum_token.span,
                format!(
                    "`#[stateroom::service]` goes on the service's `impl` block, not on the enum: write `#[stateroom::service] impl {} {{ … }}`",
                    item.ident
                ),
            ));
        }
        Item::Fn(item) => {
            return Err(syn::Error::new(
                item.sig.fn_token.span,
                "`#[stateroom::service]` goes on an `impl` block whose methods are the hooks, not on a function: write `#[stateroom::service] impl MyRoom { fn message(…) { … } }`",
            ));
        }
        other => {
            return Err(syn::Error::new(
                first_token_span(&other),
                "`#[stateroom::service]` goes on an inherent `impl` block: `#[stateroom::service] impl MyRoom { … }`",
            ));
        }
    };

    let mut errors = Errors::default();
    if let Some((_, path, _)) = &item.trait_ {
        errors.push(syn::Error::new_spanned(
            path,
            "`#[stateroom::service]` goes on an inherent impl (`impl MyRoom { … }`), not on a trait impl; to implement `SimpleStateroomService` by hand, remove the attribute",
        ));
    }
    if !item.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &item.generics,
            "a service cannot have generic or lifetime parameters: the server builds it by its type alone; make the type concrete (for example a type alias or a wrapper struct)",
        ));
    } else if let Some(span) = generic_args_span(&item.self_ty) {
        errors.push(syn::Error::new(
            span,
            "a service cannot borrow: its type must be `'static`, without `'_` or other lifetime arguments; own the data instead",
        ));
    }

    let hook_names: Vec<&str> = HookKind::ALL.iter().map(|kind| kind.name()).collect();
    let mut hooks = Vec::new();
    for impl_item in &item.items {
        let ImplItem::Fn(function) = impl_item else {
            continue;
        };
        let name = function.sig.ident.to_string();
        if let Some(kind) = HookKind::from_name(&name) {
            match parse_hook(kind, function) {
                Ok(hook) => hooks.push(hook),
                Err(error) => errors.push(error),
            }
        } else if looks_like_hook(&function.sig)
            && let Some(meant) = closest(&name, &hook_names[1..])
        {
            errors.push(syn::Error::new_spanned(
                &function.sig.ident,
                format!(
                    "unknown hook `{name}`; did you mean `{meant}`? (a method that takes `&mut self` or a context and is meant as a helper needs a name that is not this close to a hook's)"
                ),
            ));
        }
    }
    errors.finish(Service { item, hooks })
}

fn first_token_span(item: &Item) -> Span {
    item.to_token_stream()
        .into_iter()
        .find(|token| !matches!(token, proc_macro2::TokenTree::Punct(p) if p.as_char() == '#'))
        .map_or_else(Span::call_site, |token| token.span())
}

/// The span of lifetime arguments in the self type (`Room<'a>`, `Room<'_>`), if any.
fn generic_args_span(ty: &Type) -> Option<Span> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args
        .iter()
        .find(|arg| matches!(arg, syn::GenericArgument::Lifetime(_)))
        .map(Spanned::span)
}

/// A method that takes `&mut self` or names `StateroomContext` or
/// `JoinRequest` among its parameters is meant as a hook; a misspelt name on
/// it is worth an error.
fn looks_like_hook(sig: &Signature) -> bool {
    sig.inputs.iter().any(|input| match input {
        FnArg::Receiver(receiver) => receiver.mutability.is_some() && receiver.reference.is_some(),
        FnArg::Typed(typed) => {
            let ty = typed.ty.to_token_stream().to_string();
            ty.contains("StateroomContext") || ty.contains("JoinRequest")
        }
    })
}

fn parse_hook(kind: HookKind, function: &ImplItemFn) -> syn::Result<Hook> {
    let sig = &function.sig;
    let name = kind.name();
    let mut errors = Errors::default();
    if let Some(asyncness) = &sig.asyncness {
        errors.push(syn::Error::new(
            asyncness.span,
            format!(
                "the `{name}` hook cannot be `async`: a room runs its hooks one at a time and never waits inside one; remove `async` (to do slow work, spawn a task and send its result back through a message)"
            ),
        ));
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.push(syn::Error::new(
            unsafety.span,
            format!("the `{name}` hook cannot be `unsafe`; remove `unsafe`"),
        ));
    }
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new(
            constness.span,
            format!("the `{name}` hook cannot be `const`; remove `const`"),
        ));
    }
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.generics.params,
            format!(
                "the `{name}` hook cannot have generic parameters; take the context as `ctx: &impl StateroomContext`"
            ),
        ));
    }

    let mut inputs = sig.inputs.iter().peekable();
    let receiver = match inputs.peek() {
        Some(FnArg::Receiver(receiver)) => {
            inputs.next();
            Some(receiver)
        }
        _ => None,
    };
    check_receiver(kind, sig, receiver, &mut errors);
    let params: Vec<&syn::PatType> = inputs
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(typed),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let (min, max) = kind.arity();
    let missing_client = kind.takes_client()
        && params.len() < max
        && !params
            .first()
            .is_some_and(|param| is_path(&param.ty, "ClientId"))
        && (params.len() < min || params.last().is_some_and(|param| is_impl_trait(&param.ty)));
    if let Some(ctx) = params.get(min).filter(|_| params.len() == max)
        && is_dyn(&ctx.ty)
    {
        errors.push(syn::Error::new_spanned(
            &ctx.ty,
            "the context is taken as `ctx: &impl StateroomContext`, not as a trait object: `StateroomContext` has generic methods (`send`, `set_timeout`), so it cannot be `dyn`; write `&impl StateroomContext`",
        ));
    }
    if missing_client {
        errors.push(syn::Error::new(
            sig.paren_token.span.join(),
            format!(
                "the `{name}` hook is missing its client parameter: `client: ClientId` comes first after `{}`; it takes {}",
                if kind == HookKind::PrivateView { "&self" } else { "&mut self" },
                kind.signatures()
            ),
        ));
    } else if params.len() < min || params.len() > max {
        let span = params
            .get(max)
            .map(|extra| extra.span())
            .unwrap_or_else(|| sig.paren_token.span.join());
        errors.push(syn::Error::new(
            span,
            format!(
                "the `{name}` hook takes {}; found {} parameter{}{}",
                kind.signatures(),
                params.len(),
                if params.len() == 1 { "" } else { "s" },
                if receiver.is_some() && !matches!(kind, HookKind::New | HookKind::Migrate) {
                    " besides `self`"
                } else {
                    ""
                }
            ),
        ));
    }
    if kind == HookKind::Migrate && matches!(sig.output, syn::ReturnType::Default) {
        errors.push(syn::Error::new_spanned(
            &sig.ident,
            "the `migrate` hook must return the migrated state: `-> Result<serde_json::Value, String>`",
        ));
    }
    if kind == HookKind::New && matches!(sig.output, syn::ReturnType::Default) {
        errors.push(syn::Error::new_spanned(
            &sig.ident,
            "the `new` hook builds the room's state: it must return `Self`",
        ));
    }
    let output = match &sig.output {
        syn::ReturnType::Type(_, ty)
            if matches!(
                kind,
                HookKind::Join
                    | HookKind::Migrate
                    | HookKind::Command
                    | HookKind::View
                    | HookKind::PrivateView
                    | HookKind::Update
            ) =>
        {
            Some(ty.clone())
        }
        syn::ReturnType::Default if matches!(kind, HookKind::View | HookKind::PrivateView) => {
            errors.push(syn::Error::new_spanned(
                &sig.ident,
                format!(
                    "the `{name}` hook returns what {} sees, which the room syncs to it: {}",
                    if kind == HookKind::View {
                        "every client"
                    } else {
                        "only that client"
                    },
                    kind.signatures()
                ),
            ));
            None
        }
        syn::ReturnType::Default if kind == HookKind::Update => {
            errors.push(syn::Error::new_spanned(
                &sig.ident,
                "the `update` hook decides whether a client's change is applied: it must return `Result<(), Reject>`, `Ok(())` to apply it or `Err(Reject::forbidden(\"read-only\"))` to refuse it (the client is told why)",
            ));
            None
        }
        syn::ReturnType::Default if kind == HookKind::Request => {
            errors.push(syn::Error::new_spanned(
                &sig.ident,
                "the `request` hook answers the HTTP request: it must return `RoomResponse` (for example `RoomResponse::json(&self.state)`)",
            ));
            None
        }
        syn::ReturnType::Default if kind == HookKind::Join => {
            errors.push(syn::Error::new_spanned(
                &sig.ident,
                "the `join` hook decides who may join: it must return `Result<T, Reject>`, `Ok(data)` to accept (`Ok(())` for no data) or `Err(Reject::unauthorized(\"…\"))` to refuse",
            ));
            None
        }
        _ => None,
    };
    let client_ty = (kind.takes_client() && !missing_client)
        .then(|| params.first().map(|param| param.ty.clone()))
        .flatten();

    let value_at = match kind {
        HookKind::Message => Some(1),
        HookKind::Alarm => Some(0),
        _ => None,
    };
    let value_input = value_at.and_then(|at| params.get(at));
    if let Some(param) = value_input
        && is_impl_trait(&param.ty)
        && !missing_client
    {
        let what = if kind == HookKind::Alarm {
            "the timer's key"
        } else {
            "the message"
        };
        errors.push(syn::Error::new_spanned(
            &param.ty,
            format!(
                "the `{name}` hook takes {what} before the context, which comes last: {}",
                kind.signatures()
            ),
        ));
    }
    let value = value_input.map(|param| value_param(&param.ty, kind == HookKind::Alarm));
    let binary = (kind == HookKind::Binary)
        .then(|| params.get(1).map(|param| binary_param(&param.ty)))
        .flatten();
    for param in &params {
        if let Pat::Ident(ident) = &*param.pat
            && ident.by_ref.is_some()
        {
            errors.push(syn::Error::new_spanned(
                ident,
                "hook parameters cannot be bound by reference; remove `ref`",
            ));
        }
    }
    errors.finish(Hook {
        kind,
        ident: sig.ident.clone(),
        inputs: params.len(),
        value,
        binary,
        client_ty,
        output,
        first_ty: params.first().map(|param| param.ty.clone()),
    })
}

/// `&dyn Trait` or `dyn Trait`.
fn is_dyn(ty: &Type) -> bool {
    match ty {
        Type::TraitObject(_) => true,
        Type::Reference(reference) => matches!(&*reference.elem, Type::TraitObject(_)),
        _ => false,
    }
}

/// `impl Trait` or `&impl Trait`: a context where a value belongs.
fn is_impl_trait(ty: &Type) -> bool {
    match ty {
        Type::ImplTrait(_) => true,
        Type::Reference(reference) => matches!(&*reference.elem, Type::ImplTrait(_)),
        _ => false,
    }
}

fn value_param(ty: &Type, is_key: bool) -> ValueParam {
    match ty {
        Type::Reference(reference)
            if reference.mutability.is_none() && is_path(&reference.elem, "str") =>
        {
            ValueParam::Str
        }
        Type::Reference(reference)
            if is_key && reference.mutability.is_none() && is_path(&reference.elem, "TimerKey") =>
        {
            ValueParam::TimerKey
        }
        ty if is_path(ty, "String") => ValueParam::String,
        ty => ValueParam::Typed(Box::new(ty.clone())),
    }
}

fn binary_param(ty: &Type) -> BinaryParam {
    match ty {
        Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident == "Vec") => {
            BinaryParam::Vec
        }
        _ => BinaryParam::Slice,
    }
}

fn is_path(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none() && path.path.segments.last().is_some_and(|s| s.ident == name && s.arguments.is_empty()))
}
