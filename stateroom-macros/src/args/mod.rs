//! The attribute's arguments: `#[stateroom::service]`,
//! `#[stateroom::service(no_main)]`, `#[stateroom::service(reconnect = "30s")]`.

use crate::internals::Errors;
use crate::suggest::closest;
use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, Meta, Token};
use values::{outbound, patch_rate_ms, persist_options, presence, reconnect_ms};

#[cfg(test)]
mod tests;
mod values;

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
    /// Presence (`presence`, or `presence = "count"`).
    pub(crate) presence: Option<PresenceMode>,
    /// The public directory lists the rooms (`listed`).
    pub(crate) listed: bool,
    /// Rooms hold a Yjs document (`doc`), with the argument's tokens (an
    /// error without the `yjs` feature points at them).
    pub(crate) doc: Option<proc_macro2::Span>,
}

/// What presence a room sends (mirrors `stateroom::Presence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PresenceMode {
    Full,
    Count,
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

const KNOWN: [&str; 9] = [
    "doc",
    "no_main",
    "reconnect",
    "persist",
    "outbound",
    "static_dir",
    "patch_rate",
    "presence",
    "listed",
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
            ("presence", Meta::Path(_)) => args.presence = Some(PresenceMode::Full),
            ("presence", Meta::NameValue(value)) => match presence(&value.value) {
                Ok(mode) => args.presence = Some(mode),
                Err(error) => errors.push(error),
            },
            ("presence", Meta::List(_)) => errors.push(syn::Error::new_spanned(
                &meta,
                "write `presence` (every client and what it set) or `presence = \"count\"` (only how many)",
            )),
            ("doc", Meta::Path(path)) => args.doc = Some(path.span()),
            ("doc", _) => errors.push(syn::Error::new_spanned(
                &meta,
                "`doc` takes no value: write `#[stateroom::service(doc)]` for rooms that hold a Yjs document",
            )),
            ("listed", Meta::Path(_)) => args.listed = true,
            ("listed", _) => errors.push(syn::Error::new_spanned(
                &meta,
                "`listed` takes no value: write `#[stateroom::service(listed)]` to show the rooms in the public directory",
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
                    None => "; the accepted arguments are `no_main`, `reconnect = \"30s\"`, `persist`, `outbound = Type`, `static_dir = \"web\"`, `patch_rate = \"50ms\"`, `presence`, `listed` and `doc`"
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
