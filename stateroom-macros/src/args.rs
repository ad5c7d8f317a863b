//! The attribute's arguments: `#[stateroom::service]`,
//! `#[stateroom::service(no_main)]`, `#[stateroom::service(reconnect = "30s")]`.

use crate::parse::Errors;
use crate::suggest::closest;
use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, Meta, Token};

/// What the attribute's arguments asked for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Args {
    /// Leave out the generated `fn main`.
    pub(crate) no_main: bool,
    /// The reconnection window, in milliseconds.
    pub(crate) reconnect_ms: Option<u64>,
}

const KNOWN: [&str; 2] = ["no_main", "reconnect"];

/// Parses the arguments. Alongside any errors it returns what it could make
/// of them, so that a misspelt `no_main` still leaves `main` out: the user
/// then sees only the hint, not a clash with their own `main`.
pub(crate) fn parse(tokens: TokenStream) -> (Args, Option<syn::Error>) {
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(metas) => metas,
        Err(error) => return (Args::default(), Some(error)),
    };
    let mut args = Args::default();
    let mut errors = Errors::default();
    for meta in metas {
        let name = meta
            .path()
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_else(|| quote::quote!(#meta).to_string());
        match (name.as_str(), &meta) {
            ("no_main", Meta::Path(path)) => {
                if args.no_main {
                    errors.push(syn::Error::new_spanned(
                        path,
                        "`no_main` is given twice; remove one",
                    ));
                }
                args.no_main = true;
            }
            ("no_main", _) => {
                args.no_main = true;
                errors.push(syn::Error::new_spanned(
                    &meta,
                    "`no_main` takes no value: write `#[stateroom::service(no_main)]`",
                ));
            }
            ("reconnect", Meta::NameValue(value)) => {
                if args.reconnect_ms.is_some() {
                    errors.push(syn::Error::new_spanned(
                        &meta,
                        "`reconnect` is given twice; remove one",
                    ));
                }
                match reconnect_ms(&value.value) {
                    Ok(ms) => args.reconnect_ms = Some(ms),
                    Err(error) => errors.push(error),
                }
            }
            ("reconnect", _) => errors.push(syn::Error::new_spanned(
                &meta,
                "`reconnect` takes the window a dropped client's seat is held: write `#[stateroom::service(reconnect = \"30s\")]`",
            )),
            _ => {
                let meant = closest(&name, &KNOWN);
                // A misspelt `no_main` still means "no main".
                args.no_main |= meant == Some("no_main");
                let hint = match meant {
                    Some(known) => format!("; did you mean `{known}`?"),
                    None => "; the accepted arguments are `no_main` and `reconnect = \"30s\"`"
                        .to_owned(),
                };
                errors.push(syn::Error::new_spanned(
                    meta.path(),
                    format!("unknown argument `{name}` to `#[stateroom::service]`{hint}"),
                ));
            }
        }
    }
    let error = errors.finish(()).err();
    (args, error)
}

/// Reads a duration such as `"30s"`, `"500ms"`, `"2m"` or `"1h"`.
fn reconnect_ms(value: &Expr) -> syn::Result<u64> {
    let help = "`reconnect` takes a duration such as \"30s\", \"500ms\", \"2m\" or \"1h\"";
    let Expr::Lit(ExprLit {
        lit: Lit::Str(lit), ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(value, help));
    };
    let text = lit.value();
    let digits = text
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text.trim()[digits.len()..];
    let scale = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(syn::Error::new_spanned(lit, help)),
    };
    let ms = digits
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| syn::Error::new_spanned(lit, help))?;
    if ms == 0 {
        return Err(syn::Error::new_spanned(
            lit,
            "a zero window turns reconnection off, which is the default; remove `reconnect`",
        ));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse_ok(tokens: TokenStream) -> Args {
        let (args, error) = parse(tokens);
        assert!(error.is_none(), "{error:?}");
        args
    }

    fn parse_err(tokens: TokenStream) -> (Args, String) {
        let (args, error) = parse(tokens);
        (args, error.expect("an error").to_string())
    }

    #[test]
    fn accepts_nothing_no_main_and_reconnect() {
        assert_eq!(parse_ok(quote!()), Args::default());
        assert!(parse_ok(quote!(no_main)).no_main);
        let args = parse_ok(quote!(no_main, reconnect = "30s"));
        assert_eq!(args.reconnect_ms, Some(30_000));
        assert_eq!(
            parse_ok(quote!(reconnect = "250ms")).reconnect_ms,
            Some(250)
        );
        assert_eq!(
            parse_ok(quote!(reconnect = "2m")).reconnect_ms,
            Some(120_000)
        );
    }

    #[test]
    fn rejects_misspelt_and_unknown_arguments() {
        let (args, error) = parse_err(quote!(no_mian));
        assert!(error.contains("did you mean `no_main`"), "{error}");
        assert!(args.no_main, "a misspelt no_main still leaves main out");
        let (args, error) = parse_err(quote!(port = 80));
        assert!(error.contains("accepted arguments are"), "{error}");
        assert!(!args.no_main);
        let (_, error) = parse_err(quote!(no_main = true));
        assert!(error.contains("takes no value"), "{error}");
        let (_, error) = parse_err(quote!(reconect = "1s"));
        assert!(error.contains("did you mean `reconnect`"), "{error}");
    }

    #[test]
    fn rejects_bad_windows() {
        for bad in [
            quote!(reconnect = 30),
            quote!(reconnect = "30"),
            quote!(reconnect = "x s"),
            quote!(reconnect = "3d"),
        ] {
            let (_, error) = parse_err(bad);
            assert!(error.contains("takes a duration"), "{error}");
        }
        let (_, error) = parse_err(quote!(reconnect = "0s"));
        assert!(error.contains("zero window"), "{error}");
        let (_, error) = parse_err(quote!(reconnect));
        assert!(error.contains("reconnect = \"30s\""), "{error}");
    }
}
