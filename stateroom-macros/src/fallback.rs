//! What to emit when a stage failed: the user's item (so their editor keeps
//! working and no cascade of unresolved names follows), our errors, and an
//! empty `main` (so there is no "`main` function not found" either).
//!
//! The item is emitted unchanged but for two mistakes we already reported,
//! so that rustc does not add its own error after ours: a hook defined twice
//! has its later definitions renamed (not removed, so that what they use
//! stays used), and a context taken as `&dyn StateroomContext` is emitted as
//! `&impl StateroomContext`.

use crate::internals::HookKind;
use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::{FnArg, ImplItem, Type};

pub(crate) fn fallback(item: TokenStream, errors: &syn::Error, emit_main: bool) -> TokenStream {
    let errors = errors.to_compile_error();
    let defines_main =
        syn::parse2::<syn::ItemFn>(item.clone()).is_ok_and(|f| f.sig.ident == "main");
    let main = (emit_main && !defines_main).then(|| {
        quote!(
            fn main() {}
        )
    });
    let item = without_repeated_errors(item);
    quote! {
        #item
        #errors
        #main
    }
}

fn without_repeated_errors(item: TokenStream) -> TokenStream {
    let Ok(mut item) = syn::parse2::<syn::ItemImpl>(item.clone()) else {
        return item;
    };
    let mut seen = Vec::new();
    for (index, impl_item) in item.items.iter_mut().enumerate() {
        let ImplItem::Fn(function) = impl_item else {
            continue;
        };
        for input in &mut function.sig.inputs {
            if let FnArg::Typed(typed) = input {
                impl_instead_of_dyn(&mut typed.ty);
            }
        }
        let name = function.sig.ident.to_string();
        let is_hook = HookKind::ALL.iter().any(|kind| kind.name() == name);
        if is_hook && seen.contains(&name) {
            function.sig.ident = format_ident!("__stateroom_duplicate_{}_{}", index, name);
            function.attrs.push(syn::parse_quote!(#[allow(dead_code)]));
        } else {
            seen.push(name);
        }
    }
    item.into_token_stream()
}

/// `&dyn StateroomContext` → `&impl StateroomContext`.
fn impl_instead_of_dyn(ty: &mut Type) {
    if let Type::Reference(reference) = ty
        && let Type::TraitObject(object) = &*reference.elem
    {
        let bounds = &object.bounds;
        *reference.elem = syn::parse_quote!(impl #bounds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_of_a_duplicated_hook_only() {
        let item = quote! {
            impl Chat {
                fn timer(&mut self) { first() }
                fn helper(&self) {}
                fn timer(&mut self) { second() }
            }
        };
        let out = without_repeated_errors(item).to_string();
        assert!(out.contains("fn timer (& mut self) { first () }"), "{out}");
        assert!(out.contains("fn __stateroom_duplicate_2_timer"), "{out}");
        assert!(out.contains("helper"), "{out}");
    }

    #[test]
    fn a_dyn_context_becomes_impl() {
        let item = quote! {
            impl Chat { fn connect(&mut self, c: ClientId, ctx: &dyn StateroomContext) {} }
        };
        let out = without_repeated_errors(item).to_string();
        assert!(out.contains("ctx : & impl StateroomContext"), "{out}");
    }
}
