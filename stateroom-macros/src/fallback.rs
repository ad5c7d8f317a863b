//! What to emit when a stage failed: the user's item unchanged (so their editor
//! keeps working and no cascade of unresolved names follows), our errors, and an
//! empty `main` (so there is no "`main` function not found" either).

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn fallback(item: TokenStream, errors: &syn::Error, emit_main: bool) -> TokenStream {
    let errors = errors.to_compile_error();
    let defines_main =
        syn::parse2::<syn::ItemFn>(item.clone()).is_ok_and(|f| f.sig.ident == "main");
    let main = (emit_main && !defines_main).then(|| {
        quote!(
            fn main() {}
        )
    });
    quote! {
        #item
        #errors
        #main
    }
}
