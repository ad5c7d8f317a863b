//! Rules that need the whole model: each hook at most once.
//!
//! (Whether the state can be built without a `new` hook, that is whether it
//! implements `Default`, is a type question: `expand` leaves it to rustc with an
//! assertion spanned on the user's type.)

use crate::args::Args;
use crate::internals::{Errors, HookKind, Service};

pub(crate) fn validate(service: &Service, args: &Args) -> syn::Result<()> {
    let mut errors = Errors::default();
    if args.persist.is_none() {
        for kind in [HookKind::Restore, HookKind::Migrate] {
            if let Some(hook) = service.hook(kind) {
                errors.push(syn::Error::new_spanned(
                    &hook.ident,
                    format!(
                        "the `{}` hook is for persisted rooms: add `persist` to the attribute (`#[stateroom::service(persist)]`), or rename the method",
                        kind.name()
                    ),
                ));
            }
        }
    }
    if args.doc.is_none() {
        for kind in HookKind::DOC {
            if let Some(hook) = service.hook(kind) {
                errors.push(syn::Error::new_spanned(
                    &hook.ident,
                    format!(
                        "the `{}` hook is for rooms that hold a Yjs document: add `doc` to the attribute (`#[stateroom::service(doc)]`), or rename the method if it is a helper",
                        kind.name()
                    ),
                ));
            }
        }
    }
    if let Some(span) = args.doc {
        // What the runtime would send a stock y-websocket provider as text
        // on its own (which the provider cannot read).
        let text_frames = [
            args.reconnect_ms.map(|_| "`reconnect` (session frames)"),
            args.presence.map(|_| "`presence` (the presence document)"),
            service
                .hook(HookKind::View)
                .or(service.hook(HookKind::PrivateView))
                .map(|_| "a view (state sync frames)"),
        ];
        for what in text_frames.into_iter().flatten() {
            errors.push(syn::Error::new(
                span,
                format!(
                    "a `doc` room cannot also have {what}: the runtime would send it as text frames, which stock y-websocket providers cannot read. Providers resync by themselves (state vectors) and share presence through awareness; keep `doc` alone, or use a second room kind for the rest"
                ),
            ));
        }
    }
    if let (Some(_), Some(hook)) = (args.doc, service.hook(HookKind::Binary)) {
        errors.push(syn::Error::new_spanned(
            &hook.ident,
            "a `doc` room's binary frames carry the Yjs protocol, so it has no `binary` hook: validate changes in `fn update(&mut self, client: ClientId, update: &DocUpdate) -> Result<(), Reject>`, or send your own data as text messages",
        ));
    }
    if let Some((_, meta)) = &args.patch_rate
        && service.hook(HookKind::View).is_none()
        && service.hook(HookKind::PrivateView).is_none()
        && args.presence.is_none()
    {
        errors.push(syn::Error::new_spanned(
            meta,
            "`patch_rate` is for rooms that sync state or presence, and this service has neither: add `fn view(&self) -> T` (what every client sees) or `presence`, or remove `patch_rate`",
        ));
    }
    for (index, hook) in service.hooks.iter().enumerate() {
        if let Some(first) = service.hooks[..index].iter().find(|h| h.kind == hook.kind) {
            let mut error = syn::Error::new_spanned(
                &hook.ident,
                format!(
                    "the `{}` hook is defined twice; keep one (merge their bodies)",
                    hook.kind.name()
                ),
            );
            error.combine(syn::Error::new_spanned(
                &first.ident,
                format!("the first `{}` is here", hook.kind.name()),
            ));
            errors.push(error);
        }
    }
    errors.finish(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn rejects_a_hook_defined_twice() {
        let service = crate::parse::parse(quote! {
            impl Chat {
                fn timer(&mut self) {}
                fn timer(&mut self, ctx: &impl StateroomContext) {}
            }
        })
        .unwrap();
        let error = validate(&service, &Args::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("`timer` hook is defined twice"), "{error}");
    }

    #[test]
    fn persistence_hooks_need_persist() {
        let service = crate::parse::parse(quote! {
            impl Chat { fn restore(&mut self) {} }
        })
        .unwrap();
        let error = validate(&service, &Args::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("add `persist`"), "{error}");
        let (args, _) = crate::args::parse(quote!(persist));
        assert!(validate(&service, &args).is_ok());
    }

    #[test]
    fn accepts_distinct_hooks() {
        let service = crate::parse::parse(quote! {
            impl Chat { fn timer(&mut self) {} fn connect(&mut self, c: ClientId) {} }
        })
        .unwrap();
        assert!(validate(&service, &Args::default()).is_ok());
    }
}
