//! The attribute's arguments: `#[stateroom::service]` or
//! `#[stateroom::service(no_main)]`.

use crate::suggest::closest;
use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Meta, Token};

/// What the attribute's arguments asked for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Args {
    /// Leave out the generated `fn main`.
    pub(crate) no_main: bool,
}

const KNOWN: [&str; 1] = ["no_main"];

pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Args> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens)?;
    let mut args = Args::default();
    let mut errors: Option<syn::Error> = None;
    let mut push = |error: syn::Error| match &mut errors {
        Some(all) => all.combine(error),
        None => errors = Some(error),
    };
    for meta in metas {
        match &meta {
            Meta::Path(path) if path.is_ident("no_main") => {
                if args.no_main {
                    push(syn::Error::new_spanned(
                        path,
                        "`no_main` is given twice; remove one",
                    ));
                }
                args.no_main = true;
            }
            Meta::List(_) | Meta::NameValue(_) if meta.path().is_ident("no_main") => {
                push(syn::Error::new_spanned(
                    &meta,
                    "`no_main` takes no value: write `#[stateroom::service(no_main)]`",
                ));
            }
            _ => {
                let name = meta
                    .path()
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_else(|| quote::quote!(#meta).to_string());
                let hint = match closest(&name, &KNOWN) {
                    Some(known) => format!("; did you mean `{known}`?"),
                    None => "; the only accepted argument is `no_main`".to_owned(),
                };
                push(syn::Error::new_spanned(
                    meta.path(),
                    format!("unknown argument `{name}` to `#[stateroom::service]`{hint}"),
                ));
            }
        }
    }
    match errors {
        Some(errors) => Err(errors),
        None => Ok(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn accepts_nothing_or_no_main() {
        assert_eq!(parse(quote!()).unwrap(), Args { no_main: false });
        assert_eq!(parse(quote!(no_main)).unwrap(), Args { no_main: true });
    }

    #[test]
    fn rejects_misspelt_and_unknown_arguments() {
        let error = parse(quote!(no_mian)).unwrap_err().to_string();
        assert!(error.contains("did you mean `no_main`"), "{error}");
        let error = parse(quote!(port = 80)).unwrap_err().to_string();
        assert!(
            error.contains("only accepted argument is `no_main`"),
            "{error}"
        );
        let error = parse(quote!(no_main = true)).unwrap_err().to_string();
        assert!(error.contains("takes no value"), "{error}");
    }
}
