//! Rules that need the whole model: each hook at most once.
//!
//! (Whether the state can be built without a `new` hook, that is whether it
//! implements `Default`, is a type question: `expand` leaves it to rustc with an
//! assertion spanned on the user's type.)

use crate::parse::{Errors, Service};

pub(crate) fn validate(service: &Service) -> syn::Result<()> {
    let mut errors = Errors::default();
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
        let error = validate(&service).unwrap_err().to_string();
        assert!(error.contains("`timer` hook is defined twice"), "{error}");
    }

    #[test]
    fn accepts_distinct_hooks() {
        let service = crate::parse::parse(quote! {
            impl Chat { fn timer(&mut self) {} fn connect(&mut self, c: ClientId) {} }
        })
        .unwrap();
        assert!(validate(&service).is_ok());
    }
}
