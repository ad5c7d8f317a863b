//! The attribute's arguments: `#[stateroom::service]`,
//! `#[stateroom::service(no_main)]`, `#[stateroom::service(reconnect = "30s")]`.

use crate::internals::Errors;
use crate::suggest::closest;
use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, Meta, Token};

/// What the attribute's arguments asked for.
#[derive(Debug, Default, Clone)]
pub(crate) struct Args {
    /// Leave out the generated `fn main`.
    pub(crate) no_main: bool,
    /// The reconnection window, in milliseconds.
    pub(crate) reconnect_ms: Option<u64>,
    /// Persisted rooms (`persist`), with their durability and state version.
    pub(crate) persist: Option<Persist>,
    /// The type the room sends (`outbound = ChatOut`), for the client types.
    pub(crate) outbound: Option<Box<syn::Type>>,
    /// The generated `main`'s default `--static-dir`, relative to the crate.
    pub(crate) static_dir: Option<syn::LitStr>,
    /// How often a synced room sends patches, in milliseconds, with the
    /// argument's tokens (for an error when the service has no view).
    pub(crate) patch_rate: Option<(u64, Meta)>,
}

/// `persist` or `persist(durability = "…", version = N)`.
#[derive(Debug, Clone)]
pub(crate) struct Persist {
    pub(crate) durability: Durability,
    pub(crate) version: u32,
}

/// How persisted rooms save (mirrors `stateroom::Durability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    Gated,
    Debounced(u64),
    Manual,
}

const KNOWN: [&str; 6] = [
    "no_main",
    "reconnect",
    "persist",
    "outbound",
    "static_dir",
    "patch_rate",
];

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
            ("patch_rate", Meta::NameValue(value)) => {
                if args.patch_rate.is_some() {
                    errors.push(syn::Error::new_spanned(
                        &meta,
                        "`patch_rate` is given twice; remove one",
                    ));
                }
                match patch_rate_ms(&value.value) {
                    Ok(ms) => args.patch_rate = Some((ms, meta.clone())),
                    Err(error) => errors.push(error),
                }
            }
            ("patch_rate", _) => errors.push(syn::Error::new_spanned(
                &meta,
                "`patch_rate` takes how often a synced room sends its patches: write `#[stateroom::service(patch_rate = \"50ms\")]`",
            )),
            ("persist", Meta::Path(_)) => {
                args.persist = Some(Persist {
                    durability: Durability::Gated,
                    version: 1,
                });
            }
            ("persist", Meta::List(list)) => match persist_options(list) {
                Ok(persist) => args.persist = Some(persist),
                Err(error) => errors.push(error),
            },
            ("persist", Meta::NameValue(_)) => errors.push(syn::Error::new_spanned(
                &meta,
                "write `persist`, or `persist(durability = \"gated\" | \"debounced(1s)\" | \"manual\", version = 2)`",
            )),
            ("outbound", Meta::NameValue(value)) => match outbound(&value.value) {
                Ok(ty) => args.outbound = Some(Box::new(ty)),
                Err(error) => errors.push(error),
            },
            ("static_dir", Meta::NameValue(value)) => match &value.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(lit), ..
                }) if !lit.value().trim().is_empty() => args.static_dir = Some(lit.clone()),
                other => errors.push(syn::Error::new_spanned(
                    other,
                    "`static_dir` takes a directory relative to the crate, such as `static_dir = \"web\"`",
                )),
            },
            ("static_dir", _) => errors.push(syn::Error::new_spanned(
                &meta,
                "`static_dir` takes a directory relative to the crate: write `#[stateroom::service(static_dir = \"web\")]`",
            )),
            ("outbound", _) => errors.push(syn::Error::new_spanned(
                &meta,
                "`outbound` names the type the room sends: write `#[stateroom::service(outbound = ChatOut)]`",
            )),
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
                    None => "; the accepted arguments are `no_main`, `reconnect = \"30s\"`, `persist`, `outbound = Type`, `static_dir = \"web\"` and `patch_rate = \"50ms\"`"
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

/// `persist(durability = "…", version = N)`.
fn persist_options(list: &syn::MetaList) -> syn::Result<Persist> {
    let mut persist = Persist {
        durability: Durability::Gated,
        version: 1,
    };
    list.parse_nested_meta(|option| {
        if option.path.is_ident("durability") {
            let lit: syn::LitStr = option.value()?.parse()?;
            persist.durability = durability(&lit)?;
            Ok(())
        } else if option.path.is_ident("version") {
            let lit: syn::LitInt = option.value()?.parse()?;
            persist.version = lit.base10_parse::<u32>().ok().filter(|v| *v > 0).ok_or_else(|| {
                syn::Error::new_spanned(&lit, "`version` is a whole number from 1 up")
            })?;
            Ok(())
        } else {
            Err(option.error(
                "`persist` takes `durability = \"gated\" | \"debounced(1s)\" | \"manual\"` and `version = N`",
            ))
        }
    })?;
    Ok(persist)
}

/// `outbound = ChatOut` (a type path; lifetimes are left out and inferred).
fn outbound(value: &Expr) -> syn::Result<syn::Type> {
    match value {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
            Ok(syn::Type::Path(syn::TypePath {
                qself: None,
                path: path.path.clone(),
            }))
        }
        _ => Err(syn::Error::new_spanned(
            value,
            "`outbound` takes the name of the type the room sends, such as `ChatOut` (leave its lifetimes out)",
        )),
    }
}

fn durability(lit: &syn::LitStr) -> syn::Result<Durability> {
    let text = lit.value();
    let help = "`durability` is \"gated\" (the default), \"debounced(1s)\" (any duration in ms, s or m) or \"manual\"";
    match text.trim() {
        "gated" => Ok(Durability::Gated),
        "manual" => Ok(Durability::Manual),
        other => {
            let inner = other
                .strip_prefix("debounced(")
                .and_then(|rest| rest.strip_suffix(')'))
                .ok_or_else(|| syn::Error::new_spanned(lit, help))?;
            let ms = duration_ms(inner)
                .filter(|ms| *ms > 0)
                .ok_or_else(|| syn::Error::new_spanned(lit, help))?;
            Ok(Durability::Debounced(ms))
        }
    }
}

/// `"30s"` → 30 000 (units `ms`, `s`, `m`, `h`); `None` for anything else.
fn duration_ms(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let scale = match &text[digits.len()..] {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    digits
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
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
    let ms = duration_ms(&lit.value()).ok_or_else(|| syn::Error::new_spanned(lit, help))?;
    if ms == 0 {
        return Err(syn::Error::new_spanned(
            lit,
            "a zero window turns reconnection off, which is the default; remove `reconnect`",
        ));
    }
    Ok(ms)
}

/// Reads the patch rate, a duration such as `"50ms"` above zero.
fn patch_rate_ms(value: &Expr) -> syn::Result<u64> {
    let help = "`patch_rate` takes a duration such as \"50ms\" or \"1s\" (leave it out to send patches after every batch of events)";
    let Expr::Lit(ExprLit {
        lit: Lit::Str(lit), ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(value, help));
    };
    duration_ms(&lit.value())
        .filter(|ms| *ms > 0)
        .ok_or_else(|| syn::Error::new_spanned(lit, help))
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
        let args = parse_ok(quote!());
        assert!(!args.no_main && args.reconnect_ms.is_none() && args.persist.is_none());
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
    fn persist_and_its_options() {
        let args = parse_ok(quote!(persist));
        let persist = args.persist.unwrap();
        assert_eq!(
            (persist.durability, persist.version),
            (Durability::Gated, 1)
        );
        let args = parse_ok(quote!(persist(durability = "debounced(2s)", version = 3)));
        let persist = args.persist.unwrap();
        assert_eq!(
            (persist.durability, persist.version),
            (Durability::Debounced(2000), 3)
        );
        let args = parse_ok(quote!(persist(durability = "manual")));
        assert_eq!(args.persist.unwrap().durability, Durability::Manual);
        let (_, error) = parse_err(quote!(persist(durability = "sometimes")));
        assert!(error.contains("`durability` is"), "{error}");
        let (_, error) = parse_err(quote!(persist(version = 0)));
        assert!(error.contains("whole number"), "{error}");
        let (_, error) = parse_err(quote!(persist(often = 1)));
        assert!(error.contains("`persist` takes"), "{error}");
        let (_, error) = parse_err(quote!(persits));
        assert!(error.contains("did you mean `persist`"), "{error}");
    }

    #[test]
    fn outbound_takes_a_type_name() {
        let args = parse_ok(quote!(outbound = ChatOut, reconnect = "1s"));
        let ty = args.outbound.unwrap();
        assert_eq!(quote!(#ty).to_string(), "ChatOut");
        let args = parse_ok(quote!(outbound = crate::wire::Out));
        assert!(args.outbound.is_some());
        let (_, error) = parse_err(quote!(outbound = "ChatOut"));
        assert!(error.contains("takes the name of the type"), "{error}");
        let (_, error) = parse_err(quote!(outbound));
        assert!(error.contains("outbound = ChatOut"), "{error}");
    }

    #[test]
    fn static_dir_takes_a_path() {
        let args = parse_ok(quote!(static_dir = "web"));
        assert_eq!(args.static_dir.unwrap().value(), "web");
        for bad in [
            quote!(static_dir = web),
            quote!(static_dir = ""),
            quote!(static_dir),
        ] {
            let (_, error) = parse_err(bad);
            assert!(error.contains("static_dir = \"web\""), "{error}");
        }
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
