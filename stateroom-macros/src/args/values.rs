//! Reading each argument's value: durations, durability, the outbound type.

use super::{Durability, Persist, PresenceMode};
use syn::{Expr, ExprLit, Lit};

/// `persist(durability = "…", version = N)`.
pub(super) fn persist_options(list: &syn::MetaList) -> syn::Result<Persist> {
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
pub(super) fn outbound(value: &Expr) -> syn::Result<syn::Type> {
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
pub(super) fn reconnect_ms(value: &Expr) -> syn::Result<u64> {
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
pub(super) fn patch_rate_ms(value: &Expr) -> syn::Result<u64> {
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

/// `presence = "count"` (or `"full"`, which plain `presence` means).
pub(super) fn presence(value: &Expr) -> syn::Result<PresenceMode> {
    let help = "`presence` is \"full\" (every client and what it set; plain `presence` says the same) or \"count\" (only how many, for rooms with thousands of watchers)";
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => match lit.value().trim() {
            "full" => Ok(PresenceMode::Full),
            "count" => Ok(PresenceMode::Count),
            _ => Err(syn::Error::new_spanned(lit, help)),
        },
        other => Err(syn::Error::new_spanned(other, help)),
    }
}
